"""Named actors of the pilot, shared by every test folder: a district doctor, a
station worker and their patient in Phúc Thuận, and strangers from elsewhere;
and of a lesson: teacher_phucthuan and class 6A (maths) of the Phúc Thuận
school, its learning point with the device account point_phucthuan, three
pupils, and a pupil of another class."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from classrooms import actions as lesson_actions
from classrooms.models import Holiday, LearningPoint, Pupil, School, SchoolClass, Teacher, TimetableEntry
from communes.models import Commune, District, Province
from telecare.models import Consultation, Doctor, HealthStation, Hospital, Patient, StationStaff, WeeklyAvailability

# Fixtures of processes the tests start: the SMS stub, the live servers, coturn.
pytest_plugins = ["tests.sms_stub_fixtures", "tests.live_server", "tests.turn_fixtures"]

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "correct-horse-battery"

# A Monday before opening hours; tests freeze time here.
MONDAY_MORNING = datetime(2026, 11, 30, 6, 0, tzinfo=HCM)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=HCM)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After each transactional test the suite empties every table with one
    TRUNCATE, which the audit log's trigger refuses unless the session opts in
    (telecare migration 0006): on PostgreSQL the test database opts in."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                name = connection.ops.quote_name(connection.settings_dict["NAME"])
                cursor.execute(f"ALTER DATABASE {name} SET telecare.allow_audit_truncate = 'on'")
            connection.close()  # the setting holds for sessions opened from now on


@pytest.fixture(autouse=True)
def fast_password_hashing(request, settings):
    """Hashing passwords properly dominates test time; browser tests keep the
    real hasher because the daphne server they log in to uses it."""
    if request.node.get_closest_marker("e2e") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """channels_redis binds its locks to the event loop that first used it, and
    each test (and each async_to_sync call) has its own: every test gets a new layer."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def no_places_held_across_tests():
    """Places kept after a dropped socket (signaling.grace) end with their test."""
    from signaling import grace
    from signaling.media import router

    yield
    grace._held.clear()
    router.routers.clear()


@pytest.fixture
def frozen_now(monkeypatch):
    """Freeze django.utils.timezone.now, the one clock the app reads."""
    from django.utils import timezone

    moment = {"now": MONDAY_MORNING}
    monkeypatch.setattr(timezone, "now", lambda: moment["now"])

    class Clock:
        def __call__(self):
            return moment["now"]

        def set(self, value):
            moment["now"] = value

    return Clock()


def make_user(username, first="", last=""):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, first_name=first, last_name=last)


@pytest.fixture
def pilot(db):
    """Two districts, each with a hospital, a commune and its station."""
    province = Province.objects.create(slug="thai-nguyen", name="Tỉnh Thái Nguyên")
    places = {}
    for key, district_name, commune_name in [("phoyen", "Phổ Yên", "Phúc Thuận"), ("daitu", "Đại Từ", "La Bằng")]:
        district = District.objects.create(province=province, slug=key, name=district_name)
        commune = Commune.objects.create(district=district, slug=f"c-{key}", name=commune_name)
        hospital = Hospital.objects.create(district=district, name=f"Trung tâm Y tế {district_name}")
        station = HealthStation.objects.create(commune=commune, hospital=hospital, name=f"Trạm Y tế xã {commune_name}")
        places[key] = {"district": district, "commune": commune, "hospital": hospital, "station": station}
    return places


def make_doctor(username, hospital, *, slot_minutes=20, windows=None):
    user = make_user(username, "Minh", "BS. Nguyễn Văn")
    doctor = Doctor.objects.create(user=user, hospital=hospital, specialty="Nội khoa")
    # Weekdays 08:00-11:00 unless told otherwise.
    for weekday, start, end in windows or [(d, time(8), time(11)) for d in range(5)]:
        WeeklyAvailability.objects.create(doctor=doctor, weekday=weekday, starts_at=start, ends_at=end, slot_minutes=slot_minutes)
    return doctor


def make_station_worker(username, station, role=StationStaff.Role.HEALTH_WORKER):
    user = make_user(username, "Y sĩ", "Trạm")
    StationStaff.objects.create(user=user, station=station, role=role)
    return user


def make_patient(station, created_by, name="Hoàng Thị Hoa", **extra):
    fields = {
        "full_name": name, "date_of_birth": date(1958, 3, 14), "sex": "female",
        "commune": station.commune, "station": station, "relative_phone": "+84912000001",
        "sms_consent": True, "created_by": created_by,
    }
    fields.update(extra)
    return Patient.objects.create(**fields)


@pytest.fixture
def doctor(pilot):
    return make_doctor("doctor_phoyen", pilot["phoyen"]["hospital"])


@pytest.fixture
def other_doctor(pilot):
    return make_doctor("doctor_daitu", pilot["daitu"]["hospital"])


@pytest.fixture
def station_worker(pilot):
    return make_station_worker("station_phucthuan", pilot["phoyen"]["station"])


@pytest.fixture
def patient(station_worker):
    return make_patient(station_worker.station_staff.station, station_worker)


@pytest.fixture
def live_consultation(doctor, patient, station_worker):
    """A consultation that started just now by the real clock, so its room is
    open: for sockets, live servers and browsers, which all read the real clock."""
    now = timezone.now()
    return Consultation.objects.create(
        doctor=doctor, patient=patient, station=patient.station, starts_at=now, ends_at=now + timedelta(minutes=20),
        reason="Ho", booked_by=station_worker,
    )


@pytest.fixture
def stranger(pilot):
    """A station worker of another commune."""
    return make_station_worker("station_labang", pilot["daitu"]["station"])


@pytest.fixture
def stranger_patient(stranger):
    return make_patient(stranger.station_staff.station, stranger, name="Nông Văn Thắng")


@pytest.fixture
def api_for():
    """An API client that sends `Authorization: Token ...` for a user."""
    from rest_framework.authtoken.models import Token

    def client(user):
        api = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    return client



# Lessons.

# The term of the tests: Monday 30 November 2026 (tests.conftest.MONDAY_MORNING) to Friday 8 January 2027.
TERM_START, TERM_END = date(2026, 11, 30), date(2027, 1, 8)
SCHOOL_HOLIDAY = (date(2026, 12, 10), date(2026, 12, 11))  # a Thursday and Friday
NEW_YEAR = (date(2026, 12, 31), date(2027, 1, 1))  # Thursday and Friday, province-wide
# The class's weekly lessons in that term (tests.conftest.school_class).
MONDAYS = [date(2026, 11, 30), date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21), date(2026, 12, 28), date(2027, 1, 4)]
# 10 December is a school holiday, 31 December New Year's Eve (province-wide).
THURSDAYS = [date(2026, 12, 3), date(2026, 12, 17), date(2026, 12, 24), date(2027, 1, 7)]


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
        lesson_actions.enrol(pupil=pupil, school_class=school_class)
    return mai, nam, lan


@pytest.fixture
def scheduled(school_class, pupils):
    lesson_actions.schedule_term(school_class=school_class)
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
    lesson_actions.enrol(pupil=outsider, school_class=school_class)
    lesson_actions.schedule_term(school_class=school_class)
    return school_class
