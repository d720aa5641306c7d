"""A clock that django-axes reads too, and a client per address."""

from datetime import timedelta

import pytest
from django.test import Client


@pytest.fixture
def clock(frozen_now, monkeypatch):
    """frozen_now, also for django-axes, which imported `now` for itself."""
    monkeypatch.setattr("axes.handlers.proxy.now", frozen_now)
    return frozen_now


@pytest.fixture
def after_lockout(clock, settings):
    """Moves the clock past the cool-off."""
    def move():
        clock.set(clock() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1))

    return move


def client_from(address: str) -> Client:
    return Client(REMOTE_ADDR=address)
