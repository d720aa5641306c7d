"""Named actors of a lesson: teacher_phucthuan and class 6A (maths) of the
Phúc Thuận school, its learning point with the device account point_phucthuan,
three pupils, and a pupil of another class."""

from datetime import date, time

import pytest

from classrooms import actions
from classrooms.models import Holiday, LearningPoint, Pupil, School, SchoolClass, Teacher, TimetableEntry
from tests.conftest import make_user

# The term of the tests: Monday 30 November 2026 (tests.conftest.MONDAY_MORNING) to Friday 8 January 2027.
TERM_START, TERM_END = date(2026, 11, 30), date(2027, 1, 8)
SCHOOL_HOLIDAY = (date(2026, 12, 10), date(2026, 12, 11))  # a Thursday and Friday
NEW_YEAR = (date(2026, 12, 31), date(2027, 1, 1))  # Thursday and Friday, province-wide


@pytest.fixture
def school(pilot):
    return School.objects.create(name="Trường THCS Phúc Thuận", commune=pilot["phoyen"]["commune"])


@pytest.fixture
def teacher(school):
    user = make_user("teacher_phucthuan", "Hằng", "Nguyễn Thị")
    user.email = "hang@thcs.example.vn"
    user.save()
    return Teacher.objects.create(user=user, school=school, phone="+84912300001")


@pytest.fixture
def school_staff(school):
    user = make_user("school_phucthuan", "Phúc Thuận", "Trường THCS")
    school.staff.add(user)
    return user


@pytest.fixture
def point(pilot):
    return LearningPoint.objects.create(
        name="Nhà văn hóa xóm Đồng", commune=pilot["phoyen"]["commune"], device_user=make_user("point_phucthuan"),
    )


@pytest.fixture
def school_class(school, teacher, frozen_now):
    """Mondays 08:00 and Thursdays 14:00, 45 minutes; a school holiday and New Year."""
    school_class = SchoolClass.objects.create(
        school=school, name="6A", grade=6, subject="Toán", teacher=teacher, term_start=TERM_START, term_end=TERM_END,
    )
    TimetableEntry.objects.create(school_class=school_class, weekday=0, start_time=time(8), duration_minutes=45)
    TimetableEntry.objects.create(school_class=school_class, weekday=3, start_time=time(14), duration_minutes=45)
    Holiday.objects.create(name="Nghỉ giữa kỳ", start_date=SCHOOL_HOLIDAY[0], end_date=SCHOOL_HOLIDAY[1], school=school)
    Holiday.objects.create(name="Tết Dương lịch", start_date=NEW_YEAR[0], end_date=NEW_YEAR[1])
    return school_class


def make_pupil(commune, name, *, username=None, phone="", consent=False, point=None, grade=6):
    return Pupil.objects.create(
        user=make_user(username) if username else None, full_name=name, grade=grade, commune=commune,
        learning_point=point, guardian_name="Phụ huynh " + name.split()[-1], guardian_phone=phone, sms_consent=consent,
    )


@pytest.fixture
def pupils(school_class, point):
    """Mai at home with her own account; Nam and Lan at the learning point (Lan
    has an account too, her guardian has not agreed to SMS)."""
    commune = school_class.school.commune
    mai = make_pupil(commune, "Hoàng Thị Mai", username="pupil_phucthuan_1", phone="+84912100001", consent=True)
    nam = make_pupil(commune, "Nông Văn Nam", phone="+84912100002", consent=True, point=point)
    lan = make_pupil(commune, "Lường Thị Lan", username="pupil_phucthuan_3", phone="+84912100003", point=point)
    for pupil in (mai, nam, lan):
        actions.enrol(pupil=pupil, school_class=school_class)
    return mai, nam, lan


@pytest.fixture
def scheduled(school_class, pupils):
    actions.schedule_term(school_class=school_class)
    return school_class


@pytest.fixture
def other_class(school, frozen_now, pilot, point):
    """Class 7B of another teacher, with one pupil at the same learning point."""
    other_teacher = Teacher.objects.create(user=make_user("teacher_labang"), school=school)
    school_class = SchoolClass.objects.create(
        school=school, name="7B", grade=7, subject="Ngữ văn", teacher=other_teacher, term_start=TERM_START, term_end=TERM_END,
    )
    TimetableEntry.objects.create(school_class=school_class, weekday=1, start_time=time(9), duration_minutes=45)
    outsider = make_pupil(school.commune, "Triệu Văn Páo", username="pupil_other", point=point, grade=7)
    actions.enrol(pupil=outsider, school_class=school_class)
    actions.schedule_term(school_class=school_class)
    return school_class
