"""Failed sign-ins lock out an account (from any address) and an address (for
any account) for the cool-off, on the login page, the API token endpoint and
the password reset page; the district manager lifts lockouts in the admin."""

import ipaddress

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from tests.accounts.conftest import client_from
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
RESET = "/accounts/password_reset/"


@pytest.fixture(autouse=True)
def mail_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def log_in(address, username, password):
    return client_from(address).post(LOGIN, {"username": username, "password": password})


def get_token(address, username, password):
    return APIClient(REMOTE_ADDR=address).post(TOKEN, {"username": username, "password": password}, format="json")


def logged_in(response) -> bool:
    return response.status_code == 302 and response.url == "/"


def fail_limit_times(settings, attempt):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(n)


# The login page
def test_the_right_password_is_refused_after_the_limit_until_the_cool_off(station_worker, settings, clock, after_lockout):
    fail_limit_times(settings, lambda n: log_in("10.0.0.1", "station_phucthuan", "wrong"))
    locked = log_in("10.0.0.1", "station_phucthuan", PASSWORD)
    assert locked.status_code == 429 and "_auth_user_id" not in locked.client.session
    after_lockout()
    assert logged_in(log_in("10.0.0.1", "station_phucthuan", PASSWORD))


def test_an_account_is_locked_out_whichever_addresses_the_attempts_came_from(station_worker, stranger, settings, clock, after_lockout):
    fail_limit_times(settings, lambda n: log_in(f"10.0.1.{n}", "station_phucthuan", "wrong"))
    assert log_in("10.0.2.1", "station_phucthuan", PASSWORD).status_code == 429
    # Another account from one of those addresses is not locked out.
    assert logged_in(log_in("10.0.1.0", "station_labang", PASSWORD))
    after_lockout()
    assert logged_in(log_in("10.0.2.1", "station_phucthuan", PASSWORD))


def test_an_address_is_locked_out_whichever_accounts_it_tried(station_worker, stranger, settings, clock, after_lockout):
    fail_limit_times(settings, lambda n: log_in("10.0.3.1", f"guess{n}", "wrong"))
    assert log_in("10.0.3.1", "station_phucthuan", PASSWORD).status_code == 429
    assert log_in("10.0.3.1", "station_labang", PASSWORD).status_code == 429
    # The same accounts from another address are fine.
    assert logged_in(log_in("10.0.3.2", "station_phucthuan", PASSWORD))
    after_lockout()
    assert logged_in(log_in("10.0.3.1", "station_labang", PASSWORD))


def test_attempts_during_the_lockout_do_not_extend_it(station_worker, settings, clock, after_lockout):
    fail_limit_times(settings, lambda n: log_in("10.0.4.1", "station_phucthuan", "wrong"))
    for _ in range(3):
        assert log_in("10.0.4.1", "station_phucthuan", "wrong").status_code == 429
    after_lockout()
    assert logged_in(log_in("10.0.4.1", "station_phucthuan", PASSWORD))


def test_the_lockout_page_is_ours_in_the_sites_language(station_worker, settings, clock):
    fail_limit_times(settings, lambda n: log_in("10.0.5.1", "station_phucthuan", "wrong"))
    page = log_in("10.0.5.1", "station_phucthuan", PASSWORD)
    text = page.content.decode()
    assert page.status_code == 429 and page["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "accounts/locked_out.html" in [t.name for t in page.templates]
    assert '<html lang="vi">' in text and "15" in text


def test_the_limit_counts_the_address_behind_a_trusted_proxy(station_worker, settings, clock):
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("10.9.0.0/24"),)
    proxy = "10.9.0.1"

    def through_proxy(client_address, password):
        client = client_from(proxy)
        return client.post(LOGIN, {"username": "station_phucthuan", "password": password}, HTTP_X_FORWARDED_FOR=client_address)

    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        through_proxy("203.0.113.7", "wrong")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    # From an untrusted peer the header is ignored: the peer's own address is counted.
    client_from("198.51.100.9").post(LOGIN, {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert AccessAttempt.objects.filter(username="x").get().ip_address == "198.51.100.9"


# The API's token endpoint
def test_the_token_endpoint_locks_out_an_account_with_a_json_429(station_worker, settings, clock, after_lockout):
    fail_limit_times(settings, lambda n: get_token(f"10.1.0.{n}", "station_phucthuan", "wrong"))
    locked = get_token("10.1.1.1", "station_phucthuan", PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "locked_out" and locked.json()["detail"]
    assert locked["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    after_lockout()
    answer = get_token("10.1.1.1", "station_phucthuan", PASSWORD)
    assert answer.status_code == 200 and len(answer.json()["token"]) == 40


def test_the_token_endpoint_locks_out_an_address(station_worker, stranger, settings, clock, after_lockout):
    fail_limit_times(settings, lambda n: get_token("10.1.2.1", f"guess{n}", "wrong"))
    assert get_token("10.1.2.1", "station_labang", PASSWORD).json()["code"] == "locked_out"
    assert get_token("10.1.2.2", "station_labang", PASSWORD).status_code == 200
    after_lockout()
    assert get_token("10.1.2.1", "station_labang", PASSWORD).status_code == 200


def test_login_page_and_api_count_together(station_worker, settings, clock):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in("10.1.3.1", "station_phucthuan", "wrong")
    assert get_token("10.1.3.2", "station_phucthuan", "wrong").status_code == 429
    assert log_in("10.1.3.3", "station_phucthuan", PASSWORD).status_code == 429


# Password reset
@pytest.fixture
def with_email(station_worker, stranger):
    get_user_model().objects.filter(pk=station_worker.pk).update(email="phucthuan@tram.example.vn")
    get_user_model().objects.filter(pk=stranger.pk).update(email="labang@tram.example.vn")


def ask_reset(address, email):
    return client_from(address).post(RESET, {"email": email})


def test_reset_requests_for_one_email_stop_sending_mail_at_the_limit(with_email, settings, clock, after_lockout):
    limit = settings.AXES_FAILURE_LIMIT
    answers = [ask_reset(f"10.2.0.{n}", "phucthuan@tram.example.vn") for n in range(limit + 2)]
    assert [a.status_code for a in answers] == [302] * (limit - 1) + [429] * 3
    assert len(mail.outbox) == limit - 1
    assert "accounts/locked_out.html" in [t.name for t in answers[-1].templates] and answers[-1].context["password_reset"]
    after_lockout()
    assert ask_reset("10.2.0.1", "PhucThuan@tram.example.vn").status_code == 302
    assert len(mail.outbox) == limit


def test_reset_requests_from_one_address_are_limited_whatever_the_email(with_email, settings, clock, after_lockout):
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit):
        ask_reset("10.2.1.1", f"nobody{n}@example.vn")  # unknown addresses count the same: nothing to probe
    assert ask_reset("10.2.1.1", "labang@tram.example.vn").status_code == 429
    assert mail.outbox == []
    assert ask_reset("10.2.1.2", "labang@tram.example.vn").status_code == 302
    after_lockout()
    assert ask_reset("10.2.1.1", "labang@tram.example.vn").status_code == 302
    assert len(mail.outbox) == 2


def test_reset_requests_do_not_lock_the_account_itself(with_email, settings, clock):
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        ask_reset(f"10.2.2.{n}", "phucthuan@tram.example.vn")
    assert logged_in(log_in("10.2.3.1", "station_phucthuan", PASSWORD))


# The district manager lifts lockouts
@pytest.fixture
def district_manager(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.vn", "manager-pass-2026")


def test_the_district_manager_sees_and_lifts_a_lockout_in_the_admin(station_worker, district_manager, settings, clock):
    fail_limit_times(settings, lambda n: log_in(f"10.3.0.{n}", "station_phucthuan", "wrong"))
    assert log_in("10.3.1.1", "station_phucthuan", PASSWORD).status_code == 429
    admin = client_from("10.3.9.9")
    admin.force_login(district_manager)
    # Each address tried once, yet the account is locked out: the list says so.
    listing = admin.get("/admin/axes/accessattempt/?locked_out=yes")
    assert listing.status_code == 200 and listing.content.decode().count("station_phucthuan") >= settings.AXES_FAILURE_LIMIT
    assert listing.context["cl"].result_count == settings.AXES_FAILURE_LIMIT
    ids = list(AccessAttempt.objects.filter(username="station_phucthuan").values_list("pk", flat=True))
    lifted = admin.post("/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert lifted.status_code == 302 and not AccessAttempt.objects.filter(username="station_phucthuan").exists()
    assert logged_in(log_in("10.3.1.1", "station_phucthuan", PASSWORD))


# Served through ASGI, as daphne serves it (django-axes' async middleware path)
@pytest.mark.django_db(transaction=True)
async def test_the_lockout_page_is_served_through_asgi_too(async_client, station_worker, settings, clock):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        await async_client.post(LOGIN, {"username": "station_phucthuan", "password": "wrong"})
    locked = await async_client.post(LOGIN, {"username": "station_phucthuan", "password": PASSWORD})
    assert locked.status_code == 429 and "accounts/locked_out.html" in [t.name for t in locked.templates]
    session = await async_client.asession()
    assert await session.aget("_auth_user_id") is None
