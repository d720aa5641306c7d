from django.contrib.auth import authenticate
from django.core.management import call_command

from communes.models import Commune
from telecare.models import Doctor, HealthStation, Patient, StationStaff

ACCOUNTS = [
    "admin", "station_phucthuan", "station_labang", "station_binhthanh", "station_sangmoc",
    "doctor_phoyen", "doctor_daitu", "doctor_dinhhoa", "doctor_vonhai",
]


def test_seed_demo_loads_the_four_pilot_communes_and_is_idempotent(db):
    call_command("seed_demo", password="demo-pass")
    counts = (Commune.objects.count(), HealthStation.objects.count(), Doctor.objects.count(), Patient.objects.count())
    call_command("seed_demo", password="demo-pass-2")
    assert (Commune.objects.count(), HealthStation.objects.count(), Doctor.objects.count(), Patient.objects.count()) == counts
    assert sorted(Commune.objects.values_list("name", flat=True)) == ["Xã Bình Thành", "Xã La Bằng", "Xã Phúc Thuận", "Xã Sảng Mộc"]
    for username in ACCOUNTS:
        assert authenticate(username=username, password="demo-pass-2") is not None, username
    assert StationStaff.objects.get(user__username="station_phucthuan").station.commune.name == "Xã Phúc Thuận"
    assert Doctor.objects.get(user__username="doctor_vonhai").hospital.district.name == "Huyện Võ Nhai"
    for station in HealthStation.objects.all():
        assert station.hospital.doctors.count() >= 2
        assert station.patients.count() >= 3
    assert all(d.availability.exists() for d in Doctor.objects.all())
