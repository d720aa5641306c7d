"""A guardian of two pupils in two classes answers a lesson reminder: "H" with
the lesson's reference reports only that lesson's pupil absent; a bare "H"
changes nothing while two lessons are open; "C" takes the notice back."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from booking.models import Reminder, ReplyReference
from classrooms import actions, notifications
from classrooms.models import AbsenceNotice, Lesson
from tests.conftest import MONDAY_MORNING, make_pupil
from tests.sms_webhooks import reply

GUARDIAN = "+84912100001"  # Mai's guardian (tests.conftest.pupils)
NAMS_GUARDIAN = "+84912100002"


def went(lesson, number):
    reminder = Reminder.objects.get(source=notifications.SOURCE, source_id=lesson.pk, recipient=number, purpose="reminder")
    Reminder.objects.filter(pk=reminder.pk).update(status="sent", provider_sid=f"SMsent{reminder.pk:06d}", sent_at=timezone.now())
    return Reminder.objects.get(pk=reminder.pk)


def code_in(reminder) -> str:
    [code] = re.findall(r"\bH ([0-9]{4})\b", reminder.body)
    return code


def absent(lesson):
    return sorted(AbsenceNotice.objects.filter(lesson=lesson).values_list("pupil__full_name", flat=True))


@pytest.fixture
def two_lessons(scheduled, other_class, pupils, frozen_now):
    """Mai in 6A (Monday 08:00) and her brother Páo in 7B (Tuesday 09:00), one guardian's phone."""
    brother = other_class.active_pupils().get()
    brother.guardian_phone, brother.sms_consent, brother.sms_consent_at = GUARDIAN, True, timezone.now()
    brother.save()
    notifications.pupil_enrolled(brother, other_class)  # as if enrolled with this phone: his reminders
    first = Lesson.objects.filter(school_class=scheduled).order_by("starts_at").first()
    second = Lesson.objects.filter(school_class=other_class).order_by("starts_at").first()
    frozen_now.set(MONDAY_MORNING + timedelta(hours=1, minutes=5))  # 07:05, both reminders are out
    return {"maths": (first, went(first, GUARDIAN)), "literature": (second, went(second, GUARDIAN))}


def test_each_lesson_reminder_carries_its_own_reference(two_lessons):
    maths, literature = two_lessons["maths"][1], two_lessons["literature"][1]
    assert code_in(maths) != code_in(literature)
    assert "Neu con nghi, tra loi H" in maths.body


def test_a_bare_answer_reports_nobody_absent_and_lists_both_lessons(client, two_lessons):
    reply(client, GUARDIAN, "H")
    assert AbsenceNotice.objects.count() == 0
    answer = Reminder.objects.filter(recipient=GUARDIAN, purpose="choose").get()
    for _, reminder in two_lessons.values():
        assert code_in(reminder) in answer.body


def test_the_lessons_reference_reports_only_that_pupil_absent_and_c_takes_it_back(client, two_lessons, pupils):
    maths, maths_sms = two_lessons["maths"]
    literature, _ = two_lessons["literature"]
    reply(client, GUARDIAN, f"H {code_in(maths_sms)}")
    assert absent(maths) == ["Hoàng Thị Mai"] and absent(literature) == []
    acknowledgement = Reminder.objects.filter(recipient=GUARDIAN, purpose="reply").latest("pk")
    assert "da ghi nhan Mai nghi" in acknowledgement.body and code_in(maths_sms) in acknowledgement.body
    reply(client, GUARDIAN, f"C {code_in(maths_sms)}")
    assert absent(maths) == []


def test_another_guardians_reference_is_refused(client, two_lessons):
    maths, _ = two_lessons["maths"]
    nams = code_in(went(maths, NAMS_GUARDIAN))
    mine = {code_in(r) for _, r in two_lessons.values()}
    if nams in mine:  # codes are unique per number only; make this one differ
        nams = next(f"{n}" for n in range(1000, 10000) if f"{n}" not in mine)
        ReplyReference.objects.filter(number=NAMS_GUARDIAN, source_id=maths.pk).update(code=nams)
    reply(client, GUARDIAN, f"H {nams}")
    assert AbsenceNotice.objects.count() == 0
    assert Reminder.objects.filter(recipient=GUARDIAN, purpose="unknown_code").count() == 1


def test_siblings_in_one_class_share_one_reference_and_one_notice_covers_both(client, scheduled, pupils, frozen_now):
    sister = make_pupil(scheduled.school.commune, "Hoàng Thị Lụa", phone=GUARDIAN, consent=True)
    sister.sms_consent_at = timezone.now()
    sister.save()
    actions.enrol(pupil=sister, school_class=scheduled)
    lesson = Lesson.objects.filter(school_class=scheduled).order_by("starts_at").first()
    sms = went(lesson, GUARDIAN)
    frozen_now.set(MONDAY_MORNING + timedelta(hours=1, minutes=5))
    reply(client, GUARDIAN, "H")  # one open item: the answer is unambiguous
    assert absent(lesson) == ["Hoàng Thị Lụa", "Hoàng Thị Mai"]
    assert code_in(sms)


def test_a_cancelled_lessons_reference_is_closed(client, two_lessons, teacher):
    maths, maths_sms = two_lessons["maths"]
    actions.cancel_lesson(lesson=maths, by=teacher.user)
    reply(client, GUARDIAN, f"H {code_in(maths_sms)}")
    assert AbsenceNotice.objects.count() == 0
    # The literature lesson is now the phone's only open item.
    reply(client, GUARDIAN, "H")
    assert absent(two_lessons["literature"][0]) == ["Triệu Văn Páo"]


def test_the_teacher_sees_who_was_reported_absent(client, two_lessons, teacher):
    maths, maths_sms = two_lessons["maths"]
    reply(client, GUARDIAN, f"H {code_in(maths_sms)}")
    client.force_login(teacher.user)
    page = client.get(f"/classes/{maths.school_class_id}/").content.decode()
    assert re.search(r'class="absences" data-lesson="%d">[^<]*Hoàng Thị Mai' % maths.pk, page)


def test_a_guardian_who_writes_something_else_gets_the_schools_help_not_the_clinics(client, two_lessons):
    from classrooms.replies import HELP_TEXT as SCHOOL_HELP
    from telecare.outbox_source import HELP_TEXT as CLINIC_HELP

    reply(client, GUARDIAN, "con toi bi om")
    [help_reply] = Reminder.objects.filter(recipient=GUARDIAN, purpose="help")
    assert help_reply.body == SCHOOL_HELP != CLINIC_HELP
    assert "nha truong" in help_reply.body and "tram y te" not in help_reply.body
