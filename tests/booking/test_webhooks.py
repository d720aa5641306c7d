"""The provider's webhooks: signatures, delivery status in any order, replies."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from booking.models import InboundMessage, Reminder, SmsOptOut
from booking.signatures import compute_signature
from tests.sms_webhooks import post_signed
from telecare import actions
from telecare.models import Consultation
from tests.conftest import MONDAY_MORNING, at

TUESDAY = MONDAY_MORNING.date() + timedelta(days=1)
NUMBER = "+84912000001"


@pytest.fixture
def consultation(doctor, patient, station_worker, frozen_now):
    return actions.book_consultation(doctor=doctor, patient=patient, start=at(TUESDAY, 9), booked_by=station_worker, reason="Ho")


@pytest.fixture
def sent(consultation):
    """The booking notice, as if the worker had sent it."""
    reminder = Reminder.objects.get(source_id=consultation.pk, purpose="booked")
    Reminder.objects.filter(pk=reminder.pk).update(status="sent", provider_sid="SM" + "1" * 32, sent_at=timezone.now())
    return Reminder.objects.get(pk=reminder.pk)


def status(client, sid, value, **extra):
    return post_signed(client, "/webhooks/sms/status/", {"MessageSid": sid, "MessageStatus": value, **extra})


@pytest.mark.parametrize("path", ["/webhooks/sms/status/", "/webhooks/sms/inbound/"])
def test_webhooks_refuse_a_bad_or_missing_signature(client, db, path):
    params = {"MessageSid": "SMx", "MessageStatus": "delivered", "From": NUMBER, "Body": "C"}
    assert post_signed(client, path, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert post_signed(client, path, params, signature="").status_code == 403
    # Signed for another URL, or with other parameters: refused too.
    other_url = compute_signature(settings.SMS_AUTH_TOKEN, "http://evil.example/" + path, params)
    assert post_signed(client, path, params, signature=other_url).status_code == 403
    tampered = compute_signature(settings.SMS_AUTH_TOKEN, settings.PUBLIC_BASE_URL + path, {**params, "Body": "H"})
    assert post_signed(client, path, params, signature=tampered).status_code == 403
    assert post_signed(client, path, params).status_code in (200, 204)


def test_delivery_status_moves_forward_only(client, sent):
    assert status(client, sent.provider_sid, "delivered").status_code == 204
    status(client, sent.provider_sid, "sent")  # late and out of order
    status(client, sent.provider_sid, "delivered")  # repeated
    sent.refresh_from_db()
    assert sent.status == "delivered" and sent.provider_status == "delivered"


def test_a_report_before_the_worker_recorded_the_sid_is_applied_later(client, consultation):
    from booking.delivery import apply_status_reports

    status(client, "SMearly", "delivered")
    reminder = Reminder.objects.get(source_id=consultation.pk, purpose="booked")
    Reminder.objects.filter(pk=reminder.pk).update(status="sent", provider_sid="SMearly")
    apply_status_reports("SMearly")
    reminder.refresh_from_db()
    assert reminder.status == "delivered"


def test_an_undelivered_sms_flags_the_consultation_for_follow_up(client, sent, consultation):
    status(client, sent.provider_sid, "undelivered", ErrorCode="30003")
    status(client, sent.provider_sid, "delivered")  # never undoes the failure
    sent.refresh_from_db()
    consultation.refresh_from_db()
    assert sent.status == "undelivered" and "30003" in sent.last_error
    assert NUMBER in consultation.follow_up


def inbound(client, body, sid="SMin1", number=NUMBER):
    return post_signed(client, "/webhooks/sms/inbound/", {"MessageSid": sid, "From": number, "To": settings.SMS_FROM, "Body": body})


@pytest.mark.parametrize("answer", ["C", "co", "1", " Có "])
def test_confirm_replies_confirm_the_consultation_and_thank(client, sent, consultation, answer):
    response = inbound(client, answer)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    consultation.refresh_from_db()
    assert consultation.patient_confirmed_at is not None
    reply = Reminder.objects.get(purpose="reply")
    assert reply.recipient == NUMBER and "da xac nhan" in reply.body


@pytest.mark.parametrize("answer", ["H", "huy", "Hủy", "2"])
def test_cancel_replies_cancel_the_consultation_and_send_the_notice(client, sent, consultation, answer):
    inbound(client, answer)
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.CANCELLED
    assert Reminder.objects.filter(source_id=consultation.pk, purpose="cancelled", status="pending").count() == 1


def test_an_inbound_message_posted_twice_is_acted_on_once(client, sent, consultation):
    inbound(client, "H", sid="SMdup")
    assert inbound(client, "H", sid="SMdup").status_code == 200
    assert InboundMessage.objects.filter(provider_sid="SMdup").count() == 1
    assert Reminder.objects.filter(purpose="cancelled").count() == 1


def test_stop_opts_the_number_out_of_everything_pending(client, sent, consultation):
    inbound(client, "STOP")
    assert SmsOptOut.objects.filter(number=NUMBER).exists()
    assert not Reminder.objects.filter(recipient=NUMBER, status="pending").exists()
    inbound(client, "START", sid="SMin2")
    assert not SmsOptOut.objects.filter(number=NUMBER).exists()


def test_anything_else_gets_one_help_reply(client, sent, consultation):
    inbound(client, "bác sĩ ơi cho hỏi")
    inbound(client, "bác sĩ ơi cho hỏi", sid="SMin1")  # the same message again
    [help_reply] = Reminder.objects.filter(purpose="help")
    assert "Tra loi C" in help_reply.body
    consultation.refresh_from_db()
    assert consultation.status == "booked" and consultation.patient_confirmed_at is None


def test_a_reply_about_a_past_consultation_changes_nothing(client, sent, consultation, frozen_now):
    frozen_now.set(at(TUESDAY, 10))
    inbound(client, "H")
    consultation.refresh_from_db()
    assert consultation.status == "booked"
    assert "khong co lich nao" in Reminder.objects.get(purpose="nothing_open").body
