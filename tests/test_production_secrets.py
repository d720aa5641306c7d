"""With DEBUG off the app refuses to start (so `manage.py check --deploy`
fails) while SECRET_KEY, SMS_AUTH_TOKEN or TURN_SECRET is unset or is a value
this repository uses for development."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("SECRET_KEY", "SMS_AUTH_TOKEN", "TURN_SECRET")
DEVELOPMENT_VALUES = [
    ("SECRET_KEY", "django-insecure-embedded-development-key-do-not-deploy"),
    ("SMS_AUTH_TOKEN", "stub-auth-token"),
    ("TURN_SECRET", "dev-turn-secret"),
]


def deploy_check(**env):
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TURN_URLS", *SECRETS}}
    production = {"DEBUG": "false", "ALLOWED_HOSTS": "telecare.example.vn"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**base, **production, **{k: v for k, v in env.items() if v is not None}},
        capture_output=True, text=True, timeout=120,
    )


def own_secrets():
    return {name: secrets.token_urlsafe(50) for name in SECRETS}


def test_production_with_its_own_three_secrets_passes_the_deployment_check():
    result = deploy_check(**own_secrets())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", SECRETS)
def test_production_without_a_secret_refuses_to_start(name):
    result = deploy_check(**{**own_secrets(), name: None})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"{name} must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize(("name", "value"), DEVELOPMENT_VALUES)
def test_production_with_a_development_secret_refuses_to_start(name, value):
    result = deploy_check(**{**own_secrets(), name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"{name} must be set to this deployment's own secret" in result.stderr


def test_the_development_values_are_the_ones_the_repository_uses():
    # If a default moves, the refusal must move with it.
    assert 'auth_token: str = "stub-auth-token"' in (ROOT / "booking/sms_stub.py").read_text()
    assert "TURN_SECRET=dev-turn-secret" in (ROOT / "bin/turn").read_text()
    settings_source = (ROOT / "config/settings.py").read_text()
    for name, value in DEVELOPMENT_VALUES:
        assert f'"{value}"' in settings_source, name
