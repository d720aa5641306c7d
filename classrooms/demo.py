"""Demo classes of the pilot communes, loaded by `manage.py seed_demo`: per
commune a school, a teacher, a learning point with its device account, a class
of the current term with a weekly timetable, and three pupils. Rows are found
by stable keys (names, usernames), so running it again changes nothing."""

from datetime import date, time

from django.db import transaction
from django.utils import timezone

from classrooms import actions
from classrooms.models import Enrolment, Holiday, LearningPoint, Pupil, School, SchoolClass, Teacher, TimetableEntry

# commune key -> (teacher's first and last name, subject, [(weekday, start)])
CLASSES = {
    "phucthuan": ("Hằng", "Nguyễn Thị", "Toán", [(1, time(8)), (3, time(14))]),
    "labang": ("Quân", "Lê Minh", "Ngữ văn", [(0, time(8)), (2, time(14))]),
    "binhthanh": ("Thảo", "Hà Thị", "Tiếng Anh", [(1, time(14)), (4, time(8))]),
    "sangmoc": ("Sơn", "Ma Văn", "Khoa học tự nhiên", [(2, time(8)), (4, time(14))]),
}
PUPILS = [("Hoàng Thị Mai", "Hoàng Văn Bình", False), ("Nông Văn Nam", "Nông Thị Hà", True), ("Lường Thị Lan", "Lường Văn Sơn", True)]
HOLIDAYS = [("Tết Dương lịch", (1, 1), (1, 1)), ("Giải phóng miền Nam, Quốc tế Lao động", (4, 30), (5, 1)), ("Quốc khánh", (9, 2), (9, 2))]


def current_term(today: date) -> tuple[date, date]:
    """The half of the school year around today: 15 August to 15 January, or 16 January to 14 August."""
    if today >= date(today.year, 8, 15):
        return date(today.year, 8, 15), date(today.year + 1, 1, 15)
    if today <= date(today.year, 1, 15):
        return date(today.year - 1, 8, 15), date(today.year, 1, 15)
    return date(today.year, 1, 16), date(today.year, 8, 14)


@transaction.atomic
def seed(*, account, commune, place_name: str, key: str, number: int) -> SchoolClass:
    """account(username, first, last, **fields) makes or refreshes a user with the demo password."""
    term_start, term_end = current_term(timezone.localdate())
    for year in {term_start.year, term_end.year}:
        for name, (m1, d1), (m2, d2) in HOLIDAYS:
            Holiday.objects.get_or_create(name=name, start_date=date(year, m1, d1), school=None, defaults={"end_date": date(year, m2, d2)})

    school, _ = School.objects.update_or_create(name=f"Trường THCS {place_name}", defaults={"commune": commune})
    school.staff.add(account(f"school_{key}", place_name, "Trường THCS"))
    first, last, subject, timetable = CLASSES[key]
    teacher_user = account(f"teacher_{key}", first, last, email=f"teacher_{key}@truonghoc.example.vn")
    teacher, _ = Teacher.objects.update_or_create(user=teacher_user, defaults={"school": school})
    point, _ = LearningPoint.objects.update_or_create(
        commune=commune, name=f"Nhà văn hóa xã {place_name}",
        defaults={"kind": LearningPoint.Kind.COMMUNITY_ROOM, "device_user": account(f"point_{key}", place_name, "Điểm học")},
    )
    school_class, _ = SchoolClass.objects.update_or_create(
        school=school, name="6A", term_start=term_start,
        defaults={"grade": 6, "subject": subject, "teacher": teacher, "term_end": term_end},
    )
    for weekday, start in timetable:
        TimetableEntry.objects.get_or_create(school_class=school_class, weekday=weekday, start_time=start)

    for i, (full_name, guardian, at_point) in enumerate(PUPILS, start=1):
        user = account(f"pupil_{key}_{i}", full_name.split()[-1], " ".join(full_name.split()[:-1]))
        pupil, _ = Pupil.objects.update_or_create(
            user=user,
            defaults={
                "full_name": full_name, "grade": 6, "commune": commune, "learning_point": point if at_point else None,
                "guardian_name": guardian, "guardian_phone": f"+849121{number:02d}{i:03d}", "sms_consent": True,
            },
        )
        if not Enrolment.objects.filter(pupil=pupil, school_class=school_class, ended_at__isnull=True).exists():
            actions.enrol(pupil=pupil, school_class=school_class)
    actions.schedule_term(school_class=school_class)
    return school_class


def class_of(teacher_username: str) -> SchoolClass | None:
    """The demo class of this term, of the teacher with that username."""
    today = timezone.localdate()
    return (
        SchoolClass.objects.filter(teacher__user__username=teacher_username, term_start__lte=today, term_end__gte=today)
        .select_related("school", "teacher__user").order_by("pk").first()
    )
