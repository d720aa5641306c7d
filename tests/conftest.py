"""Named actors of the pilot: a district doctor, a station worker and their
patient in Phúc Thuận, and strangers from elsewhere."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from communes.models import Commune, District, Province
from telecare.models import Doctor, HealthStation, Hospital, Patient, StationStaff, WeeklyAvailability

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


from tests.sms_stub_fixtures import callback_receiver, shared_sms_stub, sms_stub, start_sms_stub  # noqa: E402,F401
from tests.live_server import live_daphne, live_stack  # noqa: E402,F401
