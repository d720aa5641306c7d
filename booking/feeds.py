"""Private calendar feeds at /calendars/<token>.ics, readable without a login.

Apps register, per owner model, a function that lists the owner's events; the
feed itself (token, revocation) lives here, so lessons reuse it unchanged.
"""

from collections.abc import Callable, Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from booking.ical import CalendarEvent, build_calendar
from booking.models import CalendarFeed

_owners: dict[type[models.Model], tuple[Callable[[models.Model], Iterable[CalendarEvent]], Callable[[models.Model], str]]] = {}


def register_owner(model: type[models.Model], *, events: Callable, name: Callable[[models.Model], str]) -> None:
    _owners[model] = (events, name)


def active_feed(owner: models.Model) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(
        content_type=ContentType.objects.get_for_model(owner), object_id=owner.pk, revoked_at__isnull=True
    ).first()


def renew_feed(owner: models.Model) -> CalendarFeed:
    """A new address for the owner's calendar; the old one stops working."""
    revoke_feed(owner)
    return CalendarFeed.objects.create(content_type=ContentType.objects.get_for_model(owner), object_id=owner.pk)


def revoke_feed(owner: models.Model) -> int:
    return CalendarFeed.objects.filter(
        content_type=ContentType.objects.get_for_model(owner), object_id=owner.pk, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def feed(request, token: str):
    subscription = get_object_or_404(CalendarFeed.objects.select_related("content_type"), token=token, revoked_at__isnull=True)
    owner = subscription.owner
    registered = _owners.get(type(owner))
    if owner is None or registered is None:
        raise Http404
    events, name = registered
    body = build_calendar(events(owner), method="PUBLISH", name=name(owner))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    # No Cache-Control of its own: a feed names patients, so no-store
    # (config.cache_control) like every page; calendar apps fetch it afresh anyway.
    return response
