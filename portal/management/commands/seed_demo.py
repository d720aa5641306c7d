"""Demo data of the four Thái Nguyên pilot communes, of both domains: the
geography and the district manager's account here, telecare's from
telecare.demo, classrooms' from classrooms.demo. Safe to run again: rows are
found by their stable keys (slugs, usernames) and brought up to date."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from classrooms.demo import seed as seed_classrooms
from communes.models import Commune, District, Province
from telecare.demo import seed as seed_telecare

# district slug, district, commune slug, commune, account suffixes
PILOTS = [
    ("pho-yen", "Thành phố Phổ Yên", "phuc-thuan", "Phúc Thuận", "phoyen", "phucthuan"),
    ("dai-tu", "Huyện Đại Từ", "la-bang", "La Bằng", "daitu", "labang"),
    ("dinh-hoa", "Huyện Định Hóa", "binh-thanh", "Bình Thành", "dinhhoa", "binhthanh"),
    ("vo-nhai", "Huyện Võ Nhai", "sang-moc", "Sảng Mộc", "vonhai", "sangmoc"),
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

        for n, (d_slug, d_name, c_slug, c_name, district_key, commune_key) in enumerate(PILOTS, start=1):
            district, _ = District.objects.update_or_create(slug=d_slug, defaults={"name": d_name, "province": province})
            commune, _ = Commune.objects.update_or_create(slug=c_slug, defaults={"name": f"Xã {c_name}", "district": district})
            seed_telecare(account=account, commune=commune, place_name=c_name, key=commune_key, district_key=district_key, number=n)
            seed_classrooms(account=account, commune=commune, place_name=c_name, key=commune_key, number=n)

        self.stdout.write(self.style.SUCCESS(
            "Demo data ready: admin, station_phucthuan, station_labang, station_binhthanh, station_sangmoc, "
            "doctor_phoyen, doctor_daitu, doctor_dinhhoa, doctor_vonhai (and digital_<commune>, doctor_<district>_2); "
            "teacher_<commune>, pupil_<commune>_1 to _3, point_<commune> (learning point), school_<commune> (school staff)."
        ))
