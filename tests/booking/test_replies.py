"""Reading replies from phones: what a text says, whatever the text; the help
reply's hourly limit; and webhook fields that our columns cannot hold."""

from datetime import timedelta

import pytest
from django.conf import settings
from hypothesis import given, settings as hypothesis_settings, strategies as st

from booking.models import InboundMessage, Reminder
from booking.replies import Reply, parse
from tests.sms_webhooks import post_signed, reply

NUMBER = "+84912000055"


@pytest.mark.parametrize(("body", "meant"), [
    ("C", Reply("confirm")), (" có ", Reply("confirm")), ("ok!", Reply("confirm")),
    ("H", Reply("cancel")), ("Hủy.", Reply("cancel")), ("2", Reply("cancel")),
    ("H 4821", Reply("cancel", "4821")), ("h4821", Reply("cancel", "4821")), ("HUY #4821", Reply("cancel", "4821")),
    ("4821 h", Reply("cancel", "4821")), ("C 0042", Reply("confirm", "0042")), ("1 4821", Reply("confirm", "4821")),
    ("Hủy" + "\u0323", Reply("cancel")),  # marks are ignored, whichever the phone adds
    ("H\u0301uy 4821", Reply("cancel", "4821")),  # decomposed input reads as its NFC form
    ("STOP", Reply("stop")), ("dừng", Reply("stop")), ("START", Reply("start")),
    ("H 482", Reply("")), ("H 48211", Reply("")), ("H ٤٨٢١", Reply("")),  # Arabic-Indic digits are not a reference
    ("X 4821", Reply("")), ("bác sĩ ơi", Reply("")), ("", Reply("")),
])
def test_a_reply_is_read_as_an_answer_and_maybe_a_reference(body, meant):
    assert parse(body) == meant


@given(st.text(max_size=300))
@hypothesis_settings(max_examples=500)
def test_any_text_reads_as_something_and_a_reference_is_four_ascii_digits(body):
    meant = parse(body)
    assert meant.answer in {"", "confirm", "cancel", "stop", "start"}
    assert meant.code is None or (len(meant.code) == 4 and meant.code.isascii() and meant.code.isdigit())
    assert meant.code is None or meant.answer in {"confirm", "cancel"}


def test_the_help_reply_goes_at_most_once_an_hour_to_a_number(client, db, frozen_now):
    for n in range(3):
        reply(client, NUMBER, f"xin chào {n}")
    assert Reminder.objects.filter(recipient=NUMBER, purpose="help").count() == 1
    assert list(InboundMessage.objects.order_by("pk").values_list("action", flat=True)) == ["help", "ignored", "ignored"]
    frozen_now.set(frozen_now() + timedelta(minutes=61))
    reply(client, NUMBER, "xin chào lần nữa")
    assert Reminder.objects.filter(recipient=NUMBER, purpose="help").count() == 2


@pytest.mark.parametrize("fields", [
    {"From": "+8491\x000000055"}, {"From": "+84" + "9" * 30}, {"From": "0912000055"}, {"From": ""},
    {"MessageSid": "SM" + "a" * 80}, {"MessageSid": "SM\x00x"}, {"MessageSid": "SM-1"},
])
def test_inbound_fields_our_columns_cannot_hold_are_refused_with_400(client, db, fields):
    params = {"MessageSid": "SMok1", "From": NUMBER, "To": settings.SMS_FROM, "Body": "C", **fields}
    assert post_signed(client, "/webhooks/sms/inbound/", params).status_code == 400
    assert not InboundMessage.objects.exists()


def test_a_body_with_nul_and_controls_is_stored_without_them(client, db):
    reply(client, NUMBER, "H\x00 \x07" + "x" * 5000)
    [stored] = InboundMessage.objects.all()
    assert "\x00" not in stored.body and "\x07" not in stored.body and len(stored.body) <= 1600


@pytest.mark.parametrize("fields", [
    {"MessageStatus": "delivered" * 5}, {"MessageStatus": "deliv\x00ered"}, {"ErrorCode": "3" * 20},
    {"MessageSid": "SM" + "b" * 70},
])
def test_status_reports_that_do_not_fit_are_refused_with_400(client, db, fields):
    params = {"MessageSid": "SMok2", "MessageStatus": "delivered", **fields}
    assert post_signed(client, "/webhooks/sms/status/", params).status_code == 400
