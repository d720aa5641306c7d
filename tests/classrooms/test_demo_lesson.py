from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from classrooms.models import Enrolment, LearningPoint, Lesson, Pupil, SchoolClass, Teacher

COMMUNES = ["phucthuan", "labang", "binhthanh", "sangmoc"]


def run(command, **options):
    out = StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def test_seed_demo_adds_a_class_per_pilot_commune_and_is_idempotent(db):
    run("seed_demo", password="demo-pass")
    counts = [m.objects.count() for m in (SchoolClass, Teacher, Pupil, Enrolment, LearningPoint, Lesson)]
    run("seed_demo", password="demo-pass-2")
    assert [m.objects.count() for m in (SchoolClass, Teacher, Pupil, Enrolment, LearningPoint, Lesson)] == counts
    assert counts[:5] == [4, 4, 12, 12, 4] and counts[5] > 0
    today = timezone.localdate()
    for key in COMMUNES:
        for username in [f"teacher_{key}", f"point_{key}", f"pupil_{key}_1", f"pupil_{key}_2", f"pupil_{key}_3"]:
            assert authenticate(username=username, password="demo-pass-2") is not None, username
        school_class = SchoolClass.objects.get(teacher__user__username=f"teacher_{key}")
        assert school_class.term_start <= today <= school_class.term_end and school_class.timetable.count() == 2
        pupils = school_class.active_pupils()
        assert pupils.count() == 3 and all(p.sms_consent and p.guardian_phone.startswith("+84") for p in pupils)
        point = LearningPoint.objects.get(device_user__username=f"point_{key}")
        assert pupils.filter(learning_point=point).count() == 2


def test_demo_lesson_starts_a_lesson_now_and_prints_the_room_and_accounts(db):
    run("seed_demo", password="demo-pass")
    printed = run("demo_lesson")
    lesson = Lesson.objects.get(room_id=printed.split("/lessons/")[1].split("/")[0])
    assert lesson.school_class.teacher.user.username == "teacher_phucthuan"
    assert lesson.is_open_at(timezone.now())
    assert f"http://127.0.0.1:8000/lessons/{lesson.room_id}/" in printed
    for username in ["teacher_phucthuan", "pupil_phucthuan_1", "pupil_phucthuan_2", "pupil_phucthuan_3", "point_phucthuan"]:
        assert username in printed
    # Run again while it is open: the same room, not a second lesson.
    assert lesson.room_id in run("demo_lesson") and Lesson.objects.filter(entry__isnull=True).count() <= 1
