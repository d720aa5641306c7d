from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from telecare.models import Consultation


def run(command, **options):
    out = StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def test_demo_call_books_a_consultation_starting_now_and_prints_its_room(db):
    run("seed_demo", password="demo-pass")
    printed = run("demo_call")
    consultation = Consultation.objects.get()
    assert consultation.doctor.user.username == "doctor_phoyen"
    assert consultation.station.staff.filter(user__username="station_phucthuan").exists()
    opens, closes = consultation.room_window()
    assert opens <= timezone.now() <= closes  # the room is open at once
    assert f"http://127.0.0.1:8000/rooms/{consultation.room_id}/" in printed
    # Run again during the call: the same room, not a second booking.
    assert consultation.room_id in run("demo_call") and Consultation.objects.count() == 1
