"""python manage.py demo_call: a consultation starting now between doctor_phoyen
and a patient of station_phucthuan, so a newcomer can try a call at once."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from telecare import actions
from telecare.errors import PatientBusy, SlotTaken
from telecare.models import Consultation


class Command(BaseCommand):
    help = "Book a video consultation starting now (doctor_phoyen, a patient of station_phucthuan) and print its room URL."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=30, help="How long the consultation lasts")

    def handle(self, *args, minutes, **options):
        User = get_user_model()
        try:
            doctor = User.objects.get(username="doctor_phoyen").doctor
            worker = User.objects.get(username="station_phucthuan")
        except (User.DoesNotExist, AttributeError):
            raise CommandError("Load the demo data first: python manage.py seed_demo --password PW") from None
        now = timezone.now()
        current = Consultation.objects.filter(
            doctor=doctor, station=worker.station_staff.station, starts_at__lte=now + timedelta(minutes=1), ends_at__gt=now,
            status__in=Consultation.OPEN_STATUSES,
        ).first()
        consultation = current or self.book(doctor, worker, now, minutes)
        url = settings.PUBLIC_BASE_URL + consultation.room_url()
        self.stdout.write(f"Consultation {consultation.pk}: {timezone.localtime(consultation.starts_at):%H:%M}–"
                          f"{timezone.localtime(consultation.ends_at):%H:%M}, {consultation.patient.full_name}")
        self.stdout.write("Open the room in two browsers (or a normal and a private window):")
        self.stdout.write(f"  as doctor_phoyen:     {url}")
        self.stdout.write(f"  as station_phucthuan: {url}")

    def book(self, doctor, worker, now, minutes):
        # Starts in a few seconds (bookings must be in the future); the room is open already.
        start = now + timedelta(seconds=5)
        for patient in worker.station_staff.station.patients.order_by("pk"):
            try:
                return actions.book_consultation(
                    doctor=doctor, patient=patient, start=start, booked_by=worker, reason="Cuộc gọi thử",
                    duration=timedelta(minutes=minutes), now=now,
                )
            except PatientBusy:
                continue
            except SlotTaken:
                raise CommandError("doctor_phoyen already has another consultation now; try again when it ends.") from None
        raise CommandError("Every patient of station_phucthuan is in a consultation now.")
