"""Typed readers for settings that come from the environment.

Each raises ImproperlyConfigured with the variable's name on a bad value, so a
typo in a deployment fails at start-up instead of behaving oddly later.
"""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    raw = os.environ.get(name, default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_urls(name: str, schemes: tuple[str, ...]) -> list[str]:
    """A comma-separated list of URLs, each with one of these schemes (stun:, turn:…)."""
    urls = env_list(name)
    for url in urls:
        scheme, colon, rest = url.partition(":")
        if not colon or not rest or scheme not in schemes:
            raise ImproperlyConfigured(f"{name} takes {', '.join(s + ':' for s in schemes)} URLs, not {url!r}")
    return urls


def env_networks(name: str, default: str = "") -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of IP addresses and CIDR networks (10.0.0.0/8)."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as error:
            raise ImproperlyConfigured(f"{name} takes IP addresses and networks, not {item!r} ({error})") from None
    return tuple(networks)


def env_secret(name: str, *, development: str, known: tuple[str, ...] = (), production: bool) -> str:
    """A secret. Unset in development, it is the embedded `development` value; in
    production it must be set, and to none of the values the repository uses
    for development (`development` and `known`), which anyone can read."""
    value = (os.environ.get(name) or "").strip()
    if not production:
        return value or development
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    if value in {development, *known}:
        raise ImproperlyConfigured(f"{name} must be set to this deployment's own secret when DEBUG is off, not a development value")
    return value
