"""API tokens expire after API_TOKEN_TTL, and are revoked when the password
changes (by any path) and on logout (the web's and the API's)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

TOKEN = "/api/v1/auth/token/"
NEW_PASSWORD = "a-new-passphrase-for-2027"


def get_token(username="station_phucthuan", password=PASSWORD):
    return APIClient().post(TOKEN, {"username": username, "password": password}, format="json")


def with_token(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def works(key) -> bool:
    return with_token(key).get("/api/v1/doctors/").status_code == 200


# Expiry
def test_the_token_endpoint_says_when_the_token_expires(station_worker, clock, settings):
    answer = get_token()
    assert answer.status_code == 200
    assert answer.json()["expires_at"] == (clock() + settings.API_TOKEN_TTL).isoformat()


def test_an_expired_token_is_refused_with_401_and_then_replaced(station_worker, clock, settings):
    key = get_token().json()["token"]
    clock.set(clock() + settings.API_TOKEN_TTL - timedelta(seconds=1))
    assert works(key)
    assert get_token().json()["token"] == key  # still valid: the same token
    clock.set(clock() + timedelta(seconds=1))
    refused = with_token(key).get("/api/v1/doctors/")
    assert refused.status_code == 401 and refused.json()["code"] == "token_expired"
    assert "/api/v1/auth/token/" in refused.json()["detail"] and refused["WWW-Authenticate"] == "Token"
    renewed = get_token().json()
    assert renewed["token"] != key and works(renewed["token"])
    assert renewed["expires_at"] == (clock() + settings.API_TOKEN_TTL).isoformat()


def test_the_api_for_fixture_still_gives_working_tokens(api_for, station_worker):
    assert api_for(station_worker).get("/api/v1/doctors/").status_code == 200


def test_bad_credentials_get_400_in_the_apis_shape(station_worker):
    answer = get_token(password="wrong")
    assert answer.status_code == 400 and "non_field_errors" in answer.json()


# Revocation on password change
@pytest.fixture
def token(station_worker, clock):
    key = get_token().json()["token"]
    assert works(key)
    return key


def test_set_password_and_save_revokes_the_token(station_worker, token):
    station_worker.set_password(NEW_PASSWORD)
    station_worker.save()
    assert not works(token) and not Token.objects.filter(user=station_worker).exists()


def test_saving_the_user_without_a_new_password_keeps_the_token(station_worker, token):
    station_worker.first_name = "Lan"
    station_worker.save()
    assert works(token)


def test_the_password_change_page_revokes_the_token(station_worker, token):
    web = Client()
    web.force_login(station_worker)
    answer = web.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert answer.status_code == 302
    assert not works(token)


def test_a_password_reset_revokes_the_token(station_worker, token, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    get_user_model().objects.filter(pk=station_worker.pk).update(email="phucthuan@tram.example.vn")
    web = Client()
    assert web.post("/accounts/password_reset/", {"email": "phucthuan@tram.example.vn"}).status_code == 302
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line).strip()
    path = link[link.index("/accounts/reset/"):]
    form = web.get(path, follow=True)  # Django moves the token from the URL into the session
    answer = web.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert answer.status_code == 302 and answer.url.endswith("/accounts/reset/done/")
    assert not works(token)


def test_a_password_set_in_the_admin_revokes_the_token(station_worker, token):
    manager = get_user_model().objects.create_superuser("admin", "admin@example.vn", "manager-pass-2026")
    admin = Client()
    admin.force_login(manager)
    answer = admin.post(f"/admin/auth/user/{station_worker.pk}/password/", {
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true",
    })
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert not works(token)


# Revocation on logout
def test_the_web_logout_revokes_the_token(station_worker, token):
    web = Client()
    web.force_login(station_worker)
    assert web.post("/accounts/logout/").status_code == 302
    assert not works(token)


def test_the_api_logout_deletes_the_callers_token(station_worker, stranger, token):
    other = get_token("station_labang").json()["token"]
    answer = with_token(token).post("/api/v1/auth/logout/")
    assert answer.status_code == 204
    assert not works(token) and works(other)
    assert with_token(token).post("/api/v1/auth/logout/").status_code == 401
