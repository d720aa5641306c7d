"""Demo health care of the pilot communes, loaded by `manage.py seed_demo`: per
commune its district's hospital with two doctors and their weekly hours, the
commune's health station with a health worker and a digital-team helper, and
four patients. Rows are found by stable keys (names, usernames), so running it
again changes nothing."""

from datetime import date, time

from django.db import transaction

from telecare.models import Doctor, HealthStation, Hospital, Patient, StationStaff, WeeklyAvailability

# district key -> the district's hospital
HOSPITALS = {
    "phoyen": "Trung tâm Y tế thành phố Phổ Yên",
    "daitu": "Trung tâm Y tế huyện Đại Từ",
    "dinhhoa": "Trung tâm Y tế huyện Định Hóa",
    "vonhai": "Trung tâm Y tế huyện Võ Nhai",
}

# (first name, last name, specialty) for the two doctors of each hospital.
DOCTORS = {
    "phoyen": [("Minh", "Nguyễn Văn", "Nội khoa"), ("Lan", "Trần Thị", "Nhi khoa")],
    "daitu": [("Hùng", "Lê Quang", "Nội khoa"), ("Thu", "Phạm Thị", "Sản phụ khoa")],
    "dinhhoa": [("Tuấn", "Hoàng Anh", "Nội khoa"), ("Mai", "Đỗ Thị", "Y học cổ truyền")],
    "vonhai": [("Dũng", "Vũ Tiến", "Nội khoa"), ("Hạnh", "Ngô Thị", "Nhi khoa")],
}

# Made-up patients; the phone numbers are fictitious.
PATIENTS = [
    ("Hoàng Thị Hoa", date(1958, 3, 14), "female", "", "Hoàng Văn Nam", "+84912000{n}01", True),
    ("Nông Văn Thắng", date(1949, 11, 2), "male", "+84912000{n}02", "", "", True),
    ("Lường Thị Mây", date(1990, 6, 21), "female", "+84912000{n}03", "Lường Văn Sơn", "+84912000{n}04", True),
    ("Triệu Văn Páo", date(2016, 1, 9), "male", "", "Triệu Thị Lìn", "+84912000{n}05", False),
]

# Mornings and afternoons on weekdays, Saturday morning; 20-minute slots.
WEEKLY = [(d, time(7, 30), time(11, 0)) for d in range(5)] + [(d, time(13, 30), time(16, 30)) for d in range(5)] + [
    (5, time(7, 30), time(11, 0))
]


@transaction.atomic
def seed(*, account, commune, place_name: str, key: str, district_key: str, number: int) -> HealthStation:
    """account(username, first, last, **fields) makes or refreshes a user with the demo password."""
    hospital, _ = Hospital.objects.update_or_create(name=HOSPITALS[district_key], defaults={"district": commune.district})
    station, _ = HealthStation.objects.update_or_create(
        commune=commune, defaults={"name": f"Trạm Y tế xã {place_name}", "hospital": hospital}
    )
    worker = account(f"station_{key}", place_name, "Trạm Y tế")
    StationStaff.objects.update_or_create(user=worker, defaults={"station": station, "role": StationStaff.Role.HEALTH_WORKER})
    helper = account(f"digital_{key}", place_name, "Tổ công nghệ số")
    StationStaff.objects.update_or_create(user=helper, defaults={"station": station, "role": StationStaff.Role.DIGITAL_TEAM})

    for i, (first, last, specialty) in enumerate(DOCTORS[district_key]):
        username = f"doctor_{district_key}" if i == 0 else f"doctor_{district_key}_{i + 1}"
        doctor_user = account(username, first, last, email=f"{username}@benhvien.example.vn")
        doctor, _ = Doctor.objects.update_or_create(
            user=doctor_user, defaults={"hospital": hospital, "specialty": specialty, "is_active": True}
        )
        if not doctor.availability.exists():
            WeeklyAvailability.objects.bulk_create(
                WeeklyAvailability(doctor=doctor, weekday=d, starts_at=s, ends_at=e, slot_minutes=20) for d, s, e in WEEKLY
            )

    for full_name, born, sex, phone, relative, relative_phone, consent in PATIENTS:
        Patient.objects.update_or_create(
            station=station,
            full_name=full_name,
            date_of_birth=born,
            defaults={
                "sex": sex, "commune": commune, "phone": phone.format(n=number),
                "relative_name": relative, "relative_phone": relative_phone.format(n=number),
                "sms_consent": consent, "created_by": worker,
            },
        )
    return station
