"""Demo data of the four Thái Nguyên pilot communes, of both domains:
telecare's here, classrooms' from classrooms.demo. Safe to run again: rows are
found by their stable keys (slugs, usernames) and brought up to date."""

from datetime import date, time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from classrooms.demo import seed as seed_classrooms
from communes.models import Commune, District, Province
from telecare.models import Doctor, HealthStation, Hospital, Patient, StationStaff, WeeklyAvailability

# district slug, district, hospital, commune slug, commune, account suffixes
PILOTS = [
    ("pho-yen", "Thành phố Phổ Yên", "Trung tâm Y tế thành phố Phổ Yên", "phuc-thuan", "Phúc Thuận", "phoyen", "phucthuan"),
    ("dai-tu", "Huyện Đại Từ", "Trung tâm Y tế huyện Đại Từ", "la-bang", "La Bằng", "daitu", "labang"),
    ("dinh-hoa", "Huyện Định Hóa", "Trung tâm Y tế huyện Định Hóa", "binh-thanh", "Bình Thành", "dinhhoa", "binhthanh"),
    ("vo-nhai", "Huyện Võ Nhai", "Trung tâm Y tế huyện Võ Nhai", "sang-moc", "Sảng Mộc", "vonhai", "sangmoc"),
]

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


class Command(BaseCommand):
    help = "Load (or refresh) demo data of the Thái Nguyên pilot communes, with accounts that log in with --password."

    def add_arguments(self, parser):
        parser.add_argument("--password", required=True, help="Password for every demo account")

    @transaction.atomic
    def handle(self, *args, password, **options):
        User = get_user_model()

        def account(username, first="", last="", **extra):
            user, _ = User.objects.update_or_create(
                username=username, defaults={"first_name": first, "last_name": last, "is_active": True, **extra}
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            return user

        account("admin", "huyện", "Quản trị", is_staff=True, is_superuser=True)
        province, _ = Province.objects.update_or_create(slug="thai-nguyen", defaults={"name": "Tỉnh Thái Nguyên"})

        for n, (d_slug, d_name, h_name, c_slug, c_name, district_key, commune_key) in enumerate(PILOTS, start=1):
            district, _ = District.objects.update_or_create(slug=d_slug, defaults={"name": d_name, "province": province})
            commune, _ = Commune.objects.update_or_create(slug=c_slug, defaults={"name": f"Xã {c_name}", "district": district})
            hospital, _ = Hospital.objects.update_or_create(name=h_name, defaults={"district": district})
            station, _ = HealthStation.objects.update_or_create(
                commune=commune, defaults={"name": f"Trạm Y tế xã {c_name}", "hospital": hospital}
            )
            worker = account(f"station_{commune_key}", c_name, "Trạm Y tế")
            StationStaff.objects.update_or_create(user=worker, defaults={"station": station, "role": StationStaff.Role.HEALTH_WORKER})
            helper = account(f"digital_{commune_key}", c_name, "Tổ công nghệ số")
            StationStaff.objects.update_or_create(user=helper, defaults={"station": station, "role": StationStaff.Role.DIGITAL_TEAM})

            for i, (first, last, specialty) in enumerate(DOCTORS[district_key]):
                username = f"doctor_{district_key}" if i == 0 else f"doctor_{district_key}_{i + 1}"
                doctor_user = account(username, first, last, email=f"{username}@benhvien.example.vn")
                doctor, _ = Doctor.objects.update_or_create(
                    user=doctor_user, defaults={"hospital": hospital, "specialty": specialty, "is_active": True}
                )
                if not doctor.availability.exists():
                    WeeklyAvailability.objects.bulk_create(
                        WeeklyAvailability(doctor=doctor, weekday=d, starts_at=s, ends_at=e, slot_minutes=20)
                        for d, s, e in WEEKLY
                    )

            for full_name, born, sex, phone, relative, relative_phone, consent in PATIENTS:
                Patient.objects.update_or_create(
                    station=station,
                    full_name=full_name,
                    date_of_birth=born,
                    defaults={
                        "sex": sex, "commune": commune, "phone": phone.format(n=n),
                        "relative_name": relative, "relative_phone": relative_phone.format(n=n),
                        "sms_consent": consent, "created_by": worker,
                    },
                )

            # The same pilot communes' remote lessons (the demo loads both domains).
            seed_classrooms(account=account, commune=commune, place_name=c_name, key=commune_key, number=n)

        self.stdout.write(self.style.SUCCESS(
            "Demo data ready: admin, station_phucthuan, station_labang, station_binhthanh, station_sangmoc, "
            "doctor_phoyen, doctor_daitu, doctor_dinhhoa, doctor_vonhai (and digital_<commune>, doctor_<district>_2); "
            "teacher_<commune>, pupil_<commune>_1 to _3, point_<commune> (learning point), school_<commune> (school staff)."
        ))
