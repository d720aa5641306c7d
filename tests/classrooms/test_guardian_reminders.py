"""SMS to guardians who agreed to them: a reminder before each lesson (minutes
set per class), a notice when a lesson is added, moved or cancelled; nothing
lost or sent twice when lessons move. The last test goes through the outbox
worker to the SMS stub process over HTTP."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from booking.models import Reminder, ReplyReference, SmsOptOut
from booking.sms import SmsGateway
from booking.sms_text import is_gsm7, prepare, segments
from booking.worker import OutboxWorker
from classrooms import actions, notifications
from classrooms.models import Lesson
from tests.conftest import MONDAYS, THURSDAYS, at, make_pupil

MAI_PHONE, NAM_PHONE = "+84912100001", "+84912100002"


def sms(lesson, **filters):
    return sorted(notifications.messages_of(lesson).filter(**filters).values_list("purpose", "recipient", "status", "due_at", "source_version"))


def test_every_lesson_of_the_term_gets_a_reminder_per_opted_in_guardian(scheduled):
    first = Lesson.objects.order_by("starts_at").first()
    assert sms(first) == [
        ("reminder", MAI_PHONE, "pending", at(MONDAYS[0], 7), 0),
        ("reminder", NAM_PHONE, "pending", at(MONDAYS[0], 7), 0),
    ]  # Lan's guardian has not agreed
    assert Reminder.objects.filter(source=notifications.SOURCE).count() == 2 * 10
    actions.schedule_term(school_class=scheduled)
    assert Reminder.objects.filter(source=notifications.SOURCE).count() == 2 * 10
    body = notifications.messages_of(first).get(recipient=MAI_PHONE).body
    assert re.fullmatch(r"THCS Phuc Thuan: nhac Mai co buoi hoc Toan luc 08:00 ngay 30/11\. Neu con nghi, tra loi H [0-9]{4}\.", body)


def test_the_reminder_time_is_set_per_class(school_class, pupils):
    school_class.reminder_minutes_before = 24 * 60
    school_class.save()
    actions.schedule_term(school_class=school_class)
    thursday = Lesson.objects.get(starts_at=at(THURSDAYS[0], 14))
    assert {due for _, _, _, due, _ in sms(thursday)} == {at(THURSDAYS[0] - timedelta(days=1), 14)}


def test_moving_withdraws_the_old_reminders_and_tells_the_guardians(scheduled, teacher):
    lesson = Lesson.objects.get(starts_at=at(MONDAYS[1], 8))
    actions.move_lesson(lesson=lesson, new_start=at(MONDAYS[1], 15), by=teacher.user)
    assert [s for _, _, s, _, v in sms(lesson) if v == 0] == ["withdrawn", "withdrawn"]
    assert [(p, to, due) for p, to, _, due, v in sms(lesson) if v == 1] == [
        ("moved", MAI_PHONE, at(MONDAYS[0], 7)), ("moved", NAM_PHONE, at(MONDAYS[0], 7)),  # 06:00 is night: at 07:00
        ("reminder", MAI_PHONE, at(MONDAYS[1], 14)), ("reminder", NAM_PHONE, at(MONDAYS[1], 14)),
    ]
    moved = notifications.messages_of(lesson).get(purpose="moved", recipient=MAI_PHONE).body
    code = ReplyReference.objects.get(source=notifications.SOURCE, source_id=lesson.pk, number=MAI_PHONE).code
    assert moved == f"THCS Phuc Thuan: buoi hoc Toan ngay 08:00 07/12 cua Mai doi sang 15:00 ngay 07/12. Neu con nghi, tra loi H {code}."


def test_cancelling_withdraws_the_reminders_and_sends_a_notice(scheduled, teacher):
    lesson = Lesson.objects.get(starts_at=at(MONDAYS[1], 8))
    actions.cancel_lesson(lesson=lesson, by=teacher.user)
    assert [(p, s) for p, _, s, _, v in sms(lesson)] == [("cancelled", "pending")] * 2 + [("reminder", "withdrawn")] * 2
    assert "da huy" in notifications.messages_of(lesson).filter(purpose="cancelled").first().body


def test_an_extra_lesson_is_announced(scheduled, teacher):
    extra = actions.add_lesson(school_class=scheduled, start=at(MONDAYS[1] + timedelta(days=5), 9), by=teacher.user)
    assert [p for p, _, _, _, _ in sms(extra)] == ["added", "added", "reminder", "reminder"]


def test_siblings_in_one_class_share_one_sms(school_class, pupils):
    sister = make_pupil(school_class.school.commune, "Hoàng Thị Hoa", phone=MAI_PHONE, consent=True)
    actions.enrol(pupil=sister, school_class=school_class)
    actions.schedule_term(school_class=school_class)
    first = Lesson.objects.order_by("starts_at").first()
    [to_mai] = notifications.messages_of(first).filter(recipient=MAI_PHONE)
    assert "nhac Hoa, Mai co buoi hoc" in to_mai.body
    actions.unenrol(enrolment=sister.enrolments.get())
    assert notifications.messages_of(first).get(recipient=MAI_PHONE).status == "pending"  # Mai is still in the class


def test_enrolling_later_adds_reminders_and_unenrolling_withdraws_them(scheduled):
    newcomer = make_pupil(scheduled.school.commune, "Lý Văn Tú", phone="+84912100009", consent=True)
    enrolment = actions.enrol(pupil=newcomer, school_class=scheduled)
    assert Reminder.objects.filter(recipient="+84912100009", status="pending").count() == 10
    actions.unenrol(enrolment=enrolment)
    assert set(Reminder.objects.filter(recipient="+84912100009").values_list("status", flat=True)) == {"withdrawn"}


def test_no_sms_without_consent_or_to_an_opted_out_number(school_class, pupils):
    SmsOptOut.objects.create(number=NAM_PHONE)
    actions.schedule_term(school_class=school_class)
    assert set(Reminder.objects.filter(source=notifications.SOURCE).values_list("recipient", flat=True)) == {MAI_PHONE}


@pytest.mark.parametrize("subject", ["Toán", "Khoa học tự nhiên", "Lịch sử và Địa lý địa phương"])
def test_every_lesson_sms_fits_one_cheap_segment(scheduled, subject):
    scheduled.subject = subject
    scheduled.save()
    scheduled.school.name = "Trường Phổ thông Dân tộc Bán trú THCS Sảng Mộc"
    lesson = Lesson.objects.select_related("school_class__school").first()
    lesson.school_class = scheduled
    long_names = [make_pupil(scheduled.school.commune, name) for name in ("Nguyễn Thị Phương Khuyến", "Ma Văn Thành")]
    for purpose in notifications.SMS_TEXTS:
        text = prepare(notifications.sms_text(purpose, lesson, long_names, old_start=lesson.starts_at, ref="9999"), unicode=False)
        assert is_gsm7(text) and segments(text) == ("GSM-7", 1), (purpose, len(text), text)


def test_through_the_stub_a_moved_lesson_gets_one_notice_and_one_reminder_per_guardian(sms_stub, school_class, pupils, teacher, frozen_now):
    # The stub dates messages by the real clock: run this lesson today.
    today = datetime.now(tz=timezone.get_current_timezone()).date()
    frozen_now.set(at(today, 10))
    gateway = SmsGateway(base_url=sms_stub.base_url, account_sid=sms_stub.account_sid, auth_token=sms_stub.auth_token, timeout=2)
    worker = OutboxWorker(gateway=gateway, name="lesson-test")

    def run_worker():
        while worker.step():
            pass

    try:
        lesson = actions.add_lesson(school_class=school_class, start=at(today, 13), by=teacher.user)
        run_worker()  # the two "added" notices
        # Mai's reminder was being sent when the lesson moved (its outcome unknown): the move cannot withdraw it.
        Reminder.objects.filter(source_id=lesson.pk, purpose="reminder", recipient=MAI_PHONE).update(needs_reconcile=True)
        actions.move_lesson(lesson=lesson, new_start=at(today, 15), by=teacher.user)
        run_worker()  # the two "moved" notices
        frozen_now.set(at(today, 12))
        run_worker()  # the old reminders' time: nothing goes out
        frozen_now.set(at(today, 14))
        run_worker()
    finally:
        gateway.close()

    outbound = [m for m in sms_stub.messages() if m["direction"] == "outbound-api"]
    for phone in (MAI_PHONE, NAM_PHONE):
        bodies = [m["body"] for m in outbound if m["to"] == phone]
        assert len(bodies) == 3, bodies
        assert "co them buoi hoc Toan luc 13:00" in bodies[0]
        assert "doi sang 15:00" in bodies[1]
        assert "co buoi hoc Toan luc 15:00" in bodies[2]
    stale = notifications.messages_of(lesson).get(purpose="reminder", recipient=MAI_PHONE, source_version=0)
    assert stale.status == "withdrawn" and stale.provider_sid is None
    assert not [m for m in outbound if m["to"] == "+84912100003"]  # Lan's guardian did not agree
