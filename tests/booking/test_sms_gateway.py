"""The real gateway client against the stub provider, a separate process spoken
to over HTTP on 127.0.0.1."""

import json
import re
import signal
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import httpx
import pytest

from booking.signatures import is_valid_signature
from booking.sms import InvalidNumber, OptedOut, RetryLater, SmsGateway

SENDER = "+84900000000"
PATIENT = "+84912345678"
RELATIVE = "+84912000001"
REMINDER = "Nhắc lịch: khám bệnh lúc 8 giờ sáng thứ Hai tại Trạm Y tế xã Phúc Thuận."
STATUS_PATH = "/webhooks/sms/status/"
INBOUND_PATH = "/webhooks/sms/inbound/"


def gateway_for(stub, **options) -> SmsGateway:
    fields = {"base_url": stub.base_url, "account_sid": stub.account_sid, "auth_token": stub.auth_token,
              "sender": SENDER, "timeout": 5}
    return SmsGateway(**{**fields, **options})


@pytest.fixture
def gateway(sms_stub):
    with gateway_for(sms_stub) as client:
        yield client


def api(stub, **options) -> httpx.Client:
    """A raw client for the stub's Twilio API, for what the gateway does not expose."""
    fields = {"base_url": f"{stub.base_url}/2010-04-01/Accounts/{stub.account_sid}",
              "auth": (stub.account_sid, stub.auth_token), "timeout": 5, "trust_env": False}
    return httpx.Client(**{**fields, **options})


def outbound(stub) -> list[dict]:
    return [m for m in stub.messages() if m["direction"] == "outbound-api"]


def assert_signed(stub, post, url):
    assert is_valid_signature(stub.auth_token, url, post.pairs, post.header("X-Twilio-Signature"))


# Sending

def test_a_sent_message_gets_a_sid_and_is_queued(sms_stub, gateway):
    sent = gateway.send(to=PATIENT, body=REMINDER)

    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid)
    assert sent.status == "queued"
    [stored] = outbound(sms_stub)
    assert (stored["sid"], stored["to"], stored["from"], stored["body"]) == (sent.sid, PATIENT, SENDER, REMINDER)


def test_the_created_message_has_twilios_resource_shape(sms_stub):
    with api(sms_stub) as client:
        response = client.post("/Messages.json", data={"To": PATIENT, "From": SENDER, "Body": REMINDER})

    assert response.status_code == 201
    message = response.json()
    assert message["account_sid"] == sms_stub.account_sid
    assert (message["status"], message["direction"]) == ("queued", "outbound-api")
    assert message["messaging_service_sid"] is None
    assert (message["date_sent"], message["error_code"], message["error_message"]) == (None, None, None)
    created = parsedate_to_datetime(message["date_created"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=1)
    assert message["uri"] == f"/2010-04-01/Accounts/{sms_stub.account_sid}/Messages/{message['sid']}.json"


@pytest.mark.parametrize(
    ("body", "segments"),
    [("A" * 160, "1"), ("A" * 161, "2"), ("A" * 306, "2"), ("A" * 307, "3"), ("{" * 80, "1"), ("{" * 81, "2"),
     ("ệ" * 70, "1"), ("ệ" * 71, "2"), ("ệ" * 134, "2"), ("ệ" * 135, "3"), (REMINDER, "2")],
)
def test_segments_are_counted_as_gsm7_or_ucs2(sms_stub, body, segments):
    with api(sms_stub) as client:
        response = client.post("/Messages.json", data={"To": PATIENT, "From": SENDER, "Body": body})

    assert response.json()["num_segments"] == segments


def test_a_messaging_service_may_stand_in_for_the_sender(sms_stub):
    with gateway_for(sms_stub, messaging_service_sid="MG" + "0" * 32) as client:
        sent = client.send(to=PATIENT, body=REMINDER)

    assert sms_stub.message(sent.sid)["messaging_service_sid"] == "MG" + "0" * 32


@pytest.mark.parametrize(
    ("data", "code"),
    [({"From": SENDER, "Body": "x"}, 21604), ({"To": PATIENT, "Body": "x"}, 21603), ({"To": PATIENT, "From": SENDER}, 21602),
     ({"To": PATIENT, "From": SENDER, "Body": "x" * 1601}, 21617)],
)
def test_incomplete_requests_get_twilios_400s(sms_stub, data, code):
    with api(sms_stub) as client:
        response = client.post("/Messages.json", data=data)

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert outbound(sms_stub) == []


def test_wrong_credentials_are_a_retry_later_with_401(sms_stub):
    # A wrong or rotated token is our configuration, not the message's fault: keep it.
    with gateway_for(sms_stub, auth_token="not-the-token") as client, pytest.raises(RetryLater) as refused:
        client.send(to=PATIENT, body=REMINDER)

    assert (refused.value.status, refused.value.code) == (401, 20003)
    assert outbound(sms_stub) == []


def test_another_accounts_path_is_refused_even_with_good_credentials(sms_stub):
    with api(sms_stub, base_url=f"{sms_stub.base_url}/2010-04-01/Accounts/AC{'1' * 32}") as client:
        response = client.post("/Messages.json", data={"To": PATIENT, "From": SENDER, "Body": "x"})

    assert response.status_code == 401
    assert response.json() == {"code": 20003, "message": "Authenticate",
                               "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}


def test_a_number_not_in_e164_is_an_invalid_number(gateway):
    with pytest.raises(InvalidNumber) as refused:
        gateway.send(to="0912345678", body=REMINDER)

    assert (refused.value.status, refused.value.code) == (400, 21211)


def test_a_number_that_answered_stop_is_opted_out_until_start(sms_stub, gateway):
    sms_stub.inbound(PATIENT, "  stop ")

    with pytest.raises(OptedOut) as refused:
        gateway.send(to=PATIENT, body=REMINDER)
    assert refused.value.code == 21610
    gateway.send(to=RELATIVE, body=REMINDER)

    sms_stub.inbound(PATIENT, "START")
    assert gateway.send(to=PATIENT, body=REMINDER).status == "queued"


# Faults

def test_a_500_means_retry_later_with_an_unknown_outcome_and_nothing_is_stored(sms_stub, gateway):
    sms_stub.faults(mode="error500")

    with pytest.raises(RetryLater) as failed:
        gateway.send(to=PATIENT, body=REMINDER)

    assert failed.value.outcome_unknown
    assert failed.value.status == 500
    assert outbound(sms_stub) == []


def test_a_rate_limit_means_retry_later_after_the_providers_delay(sms_stub, gateway):
    sms_stub.faults(mode="rate_limit", retry_after=7)

    with pytest.raises(RetryLater) as failed:
        gateway.send(to=PATIENT, body=REMINDER)

    assert failed.value.retry_after == 7
    assert (failed.value.status, failed.value.code) == (429, 20429)
    assert not failed.value.outcome_unknown
    assert outbound(sms_stub) == []


def test_a_timeout_is_retry_later_but_the_provider_kept_the_message(sms_stub):
    # The provider's dates have whole seconds: ask from the start of this second.
    before = datetime.now(timezone.utc).replace(microsecond=0)
    sms_stub.faults(mode="timeout", delay=1.5, count=1)

    with gateway_for(sms_stub, timeout=0.5) as impatient:
        with pytest.raises(RetryLater) as failed:
            impatient.send(to=PATIENT, body=REMINDER)
        found = impatient.list_messages(to=PATIENT, sent_after=before)

    assert failed.value.outcome_unknown
    assert [(m.to, m.body) for m in found] == [(PATIENT, REMINDER)]
    assert found[0].sid == outbound(sms_stub)[0]["sid"]


def test_count_limits_a_fault_to_that_many_requests(sms_stub, gateway):
    sms_stub.faults(mode="error500", count=2)

    for _ in range(2):
        with pytest.raises(RetryLater):
            gateway.send(to=PATIENT, body=REMINDER)
    sent = gateway.send(to=PATIENT, body=REMINDER)

    assert [m["sid"] for m in outbound(sms_stub)] == [sent.sid]
    assert sms_stub.http.get("/stub/faults").json()["mode"] == "none"


def test_a_fault_without_count_lasts_until_cleared(sms_stub, gateway):
    sms_stub.faults(mode="rate_limit", retry_after=1)
    for _ in range(3):
        with pytest.raises(RetryLater):
            gateway.send(to=PATIENT, body=REMINDER)

    sms_stub.faults(mode="none")
    assert gateway.send(to=PATIENT, body=REMINDER).status == "queued"


@pytest.mark.parametrize("config", [{"mode": "explode"}, {"mode": "error500", "count": 0}, {"undeliverable": PATIENT},
                                    {"mode": "rate_limit", "retry_after": "soon"}])
def test_bad_fault_configurations_are_refused(sms_stub, config):
    response = sms_stub.http.post("/stub/faults", json=config)

    assert response.status_code == 400
    assert sms_stub.http.get("/stub/faults").json()["mode"] == "none"


def test_reset_forgets_messages_faults_and_opt_outs(sms_stub, gateway):
    gateway.send(to=RELATIVE, body=REMINDER)
    sms_stub.inbound(PATIENT, "STOP")
    sms_stub.faults(mode="error500", undeliverable=[RELATIVE])

    sms_stub.reset()

    assert sms_stub.messages() == []
    assert sms_stub.http.get("/stub/faults").json()["undeliverable"] == []
    assert gateway.send(to=PATIENT, body=REMINDER).status == "queued"


# Status callbacks

def test_status_callbacks_arrive_signed_in_order_sent_then_delivered(sms_stub, gateway, callback_receiver):
    callback_url = callback_receiver.url(STATUS_PATH)

    sent = gateway.send(to=PATIENT, body=REMINDER, status_callback=callback_url)

    posts = callback_receiver.wait_for(2, path=STATUS_PATH)
    assert [p.params["MessageStatus"] for p in posts] == ["sent", "delivered"]
    for post in posts:
        assert_signed(sms_stub, post, callback_url)
        assert post.params["MessageSid"] == post.params["SmsSid"] == sent.sid
        assert (post.params["To"], post.params["From"]) == (PATIENT, SENDER)
        assert post.params["AccountSid"] == sms_stub.account_sid
        assert post.params["ApiVersion"] == "2010-04-01"
        assert post.params["SmsStatus"] == post.params["MessageStatus"]
        assert "ErrorCode" not in post.params
    stored = sms_stub.wait_for_status(sent.sid, "delivered")
    assert [step["status"] for step in stored["history"]] == ["queued", "sent", "delivered"]
    assert stored["date_sent"] is not None


def test_a_signature_made_for_another_url_does_not_verify(sms_stub, gateway, callback_receiver):
    gateway.send(to=PATIENT, body=REMINDER, status_callback=callback_receiver.url(STATUS_PATH))

    [post] = callback_receiver.wait_for(1)
    other_url = callback_receiver.url("/webhooks/sms/other/")
    assert not is_valid_signature(sms_stub.auth_token, other_url, post.pairs, post.header("X-Twilio-Signature"))


@pytest.mark.parametrize(
    ("fault", "statuses", "error_code"),
    [("undeliverable", ["sent", "undelivered"], "30003"), ("failing", ["failed"], "30008")],
)
def test_numbers_configured_to_fail_end_with_twilios_error_code(sms_stub, gateway, callback_receiver,
                                                                 fault, statuses, error_code):
    sms_stub.faults(**{fault: [PATIENT]})
    callback_url = callback_receiver.url(STATUS_PATH)

    sent = gateway.send(to=PATIENT, body=REMINDER, status_callback=callback_url)

    posts = callback_receiver.wait_for(len(statuses))
    assert [p.params["MessageStatus"] for p in posts] == statuses
    assert posts[-1].params["ErrorCode"] == error_code
    assert all(is_valid_signature(sms_stub.auth_token, callback_url, p.pairs, p.header("X-Twilio-Signature"))
               for p in posts)
    stored = sms_stub.wait_for_status(sent.sid, statuses[-1])
    assert stored["error_code"] == int(error_code)


def test_an_unreachable_callback_url_does_not_stop_the_stub(sms_stub, gateway):
    sent = gateway.send(to=PATIENT, body=REMINDER, status_callback="http://127.0.0.1:9/nobody-listens/")

    sms_stub.wait_for_status(sent.sid, "delivered")
    assert gateway.send(to=RELATIVE, body=REMINDER).status == "queued"


# Inbound replies

def test_an_inbound_reply_reaches_the_app_signed(start_sms_stub, callback_receiver):
    inbound_url = callback_receiver.url(INBOUND_PATH)
    stub = start_sms_stub(inbound_url=inbound_url)

    result = stub.inbound(PATIENT, "Có, tôi sẽ đến")

    [post] = callback_receiver.wait_for(1, path=INBOUND_PATH)
    assert_signed(stub, post, inbound_url)
    assert post.params["MessageSid"] == post.params["SmsSid"] == result["sid"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", result["sid"])
    assert (post.params["From"], post.params["To"], post.params["Body"]) == (PATIENT, stub.sender, "Có, tôi sẽ đến")
    assert (post.params["NumMedia"], post.params["NumSegments"]) == ("0", "1")
    assert post.params["AccountSid"] == stub.account_sid
    assert post.params["ApiVersion"] == "2010-04-01"
    assert result["posts"] == [{"url": inbound_url, "status": 200, "body": "<Response></Response>"}]
    [stored] = stub.messages()
    assert (stored["direction"], stored["status"], stored["body"]) == ("inbound", "received", "Có, tôi sẽ đến")


def test_a_duplicate_inbound_posts_the_same_message_twice(start_sms_stub, callback_receiver):
    stub = start_sms_stub(inbound_url=callback_receiver.url(INBOUND_PATH))

    result = stub.inbound(PATIENT, "HUY", duplicate=True)

    first, second = callback_receiver.wait_for(2, path=INBOUND_PATH)
    assert first.params == second.params
    assert first.params["MessageSid"] == result["sid"]
    assert first.header("I-Twilio-Idempotency-Token") == second.header("I-Twilio-Idempotency-Token")
    assert [p["status"] for p in result["posts"]] == [200, 200]
    assert len(stub.messages()) == 1


def test_the_apps_answer_to_an_inbound_post_is_reported(start_sms_stub, callback_receiver):
    stub = start_sms_stub(inbound_url=callback_receiver.url(INBOUND_PATH))
    callback_receiver.answer = (403, "text/plain", "bad signature")

    result = stub.inbound(PATIENT, "C")

    assert result["posts"][0]["status"] == 403
    assert result["posts"][0]["body"] == "bad signature"


def test_an_unreachable_inbound_url_is_reported_not_fatal(start_sms_stub):
    stub = start_sms_stub(inbound_url="http://127.0.0.1:9/webhooks/sms/inbound/")

    result = stub.inbound(PATIENT, "C")

    assert result["posts"][0]["status"] is None
    assert [m["sid"] for m in stub.messages()] == [result["sid"]]


# The inbox page

def test_the_inbox_lists_a_vietnamese_message(sms_stub, gateway):
    gateway.send(to=PATIENT, body=REMINDER)
    sms_stub.inbound(PATIENT, "Có")

    page = sms_stub.http.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert REMINDER in page.text
    assert page.text.index("Có<") < page.text.index(REMINDER)  # newest first
    assert 'action="/stub/inbound"' in page.text


def test_a_reply_typed_on_the_inbox_page_goes_back_to_the_inbox(sms_stub):
    response = sms_stub.http.post("/stub/inbound", data={"From": PATIENT, "Body": "Đồng ý", "next": "/"})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "Đồng ý" in sms_stub.http.get("/").text


# Listing, as the outbox reconciles

def test_list_messages_filters_by_recipient(sms_stub, gateway):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    for_patient = gateway.send(to=PATIENT, body=REMINDER)
    gateway.send(to=RELATIVE, body=REMINDER)

    found = gateway.list_messages(to=PATIENT, sent_after=before)

    assert [m.sid for m in found] == [for_patient.sid]
    assert found[0].date_created >= before


def test_list_messages_asks_for_the_utc_day_whatever_the_callers_zone(sms_stub, gateway):
    # Stands for Asia/Ho_Chi_Minh between 00:00 and 07:00, when its date is a day
    # ahead of UTC's; +23:59 makes that so at any hour of the test run.
    far_east = timezone(timedelta(hours=23, minutes=59))
    before = (datetime.now(timezone.utc) - timedelta(minutes=2)).astimezone(far_east)
    sent = gateway.send(to=PATIENT, body=REMINDER)

    assert [m.sid for m in gateway.list_messages(to=PATIENT, sent_after=before)] == [sent.sid]


def test_the_list_is_newest_first_and_paged(sms_stub, gateway):
    sids = [gateway.send(to=PATIENT, body=f"Tin {n}").sid for n in range(3)]

    with api(sms_stub) as client:
        first = client.get("/Messages.json", params={"To": PATIENT, "PageSize": 2}).json()
        second = client.get(sms_stub.base_url + first["next_page_uri"]).json()

    assert [m["sid"] for m in first["messages"]] == sids[:0:-1]
    assert (first["page"], first["page_size"], first["previous_page_uri"]) == (0, 2, None)
    assert [m["sid"] for m in second["messages"]] == sids[:1]
    assert second["next_page_uri"] is None


def test_the_list_filters_by_twilios_date_sent_keys(sms_stub, gateway):
    sent = gateway.send(to=PATIENT, body=REMINDER)
    day = parsedate_to_datetime(sms_stub.message(sent.sid)["date_created"]).date()
    previous, following = (day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()

    def sids(query: str) -> list[str]:
        with api(sms_stub) as client:
            return [m["sid"] for m in client.get(f"/Messages.json?{query}").json()["messages"]]

    assert sids(f"DateSent%3E={day}") == sids(f"DateSent%3C={day}") == sids(f"DateSent={day}") == [sent.sid]
    assert sids(f"DateSent%3E={previous}&DateSent%3C={following}") == [sent.sid]
    assert sids(f"DateSent%3E={following}") == sids(f"DateSent%3C={previous}") == sids(f"DateSent={previous}") == []
    with api(sms_stub) as client:
        assert client.get("/Messages.json?DateSent%3E=30-11-2026").status_code == 400


def test_one_message_can_be_fetched_and_an_unknown_one_is_404(sms_stub, gateway):
    sent = gateway.send(to=PATIENT, body=REMINDER)

    with api(sms_stub) as client:
        found = client.get(f"/Messages/{sent.sid}.json")
        missing = client.get(f"/Messages/SM{'0' * 32}.json")

    assert found.json()["body"] == REMINDER
    assert (missing.status_code, missing.json()["code"]) == (404, 20404)


# The process

def test_accepted_messages_are_appended_to_the_log(start_sms_stub, tmp_path):
    log_path = tmp_path / "sent.jsonl"
    stub = start_sms_stub(log_path=log_path)

    with gateway_for(stub) as client:
        sids = [client.send(to=PATIENT, body=REMINDER).sid, client.send(to=RELATIVE, body="Tin 2").sid]
        with pytest.raises(InvalidNumber):
            client.send(to="12345", body="never logged")

    lines = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    assert [(line["sid"], line["to"]) for line in lines] == [(sids[0], PATIENT), (sids[1], RELATIVE)]
    assert lines[0]["body"] == REMINDER


def test_the_stub_stops_cleanly_on_sigterm(start_sms_stub):
    stub = start_sms_stub()

    stub.process.send_signal(signal.SIGTERM)

    deadline = time.monotonic() + 5
    while stub.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stub.process.returncode == 0
