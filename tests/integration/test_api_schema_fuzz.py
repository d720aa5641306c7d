"""Schemathesis generates requests from the OpenAPI schema at /api/v1/schema/;
whatever it sends, authenticated as a station worker, the API never answers 5xx."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

# Serving the schema touches no database, so it can load at collection time.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def keep_connection_open():
    """As Django's test client does: the test's connection survives each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case, keep_connection_open, station_worker, doctor, patient):
    token, _ = Token.objects.get_or_create(user=station_worker)
    response = case.call(headers={"Authorization": f"Token {token.key}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
