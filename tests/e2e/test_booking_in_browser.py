"""A station worker books in Chromium; the doctor sees it on the dashboard."""

import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from booking.models import Reminder
from telecare.models import Consultation
from tests.e2e.pages import log_in
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)




def test_station_worker_books_and_the_doctor_sees_it(live_stack, live_daphne, new_page, doctor_all_week, station_worker, patient):
    doctor = doctor_all_week
    doctor.user.email = "doctor_phoyen@benhvien.example.vn"
    doctor.user.save()
    page = new_page()
    log_in(page, live_daphne, station_worker)
    page.goto(f"{live_daphne}/station/patients/{patient.pk}/book/")
    with page.expect_navigation():
        page.select_option("#doctor", str(doctor.pk))

    # Skip a slot about to begin, so it cannot pass while the form is sent.
    starts = page.locator(".slots label[data-start]").evaluate_all("labels => labels.map(l => l.dataset.start)")
    start = next(s for s in starts if datetime.fromisoformat(s) > timezone.now() + timedelta(minutes=1))
    page.click(f'.slots label[data-start="{start}"]')
    page.fill("#id_reason", "Tăng huyết áp, tái khám")
    page.select_option("#id_mode", Consultation.Mode.VIDEO)
    with page.expect_navigation():
        page.click("#book-form button[type=submit]")

    match = re.search(r"/consultations/(\d+)/$", page.url)
    assert match, f"not on a consultation page: {page.url}"
    with translation.override("vi"):
        expect(page.locator(".msg.success")).to_have_text(gettext("Consultation booked."))
    booked = Consultation.objects.filter(patient=patient, doctor=doctor, starts_at=datetime.fromisoformat(start))
    assert [c.pk for c in booked] == [int(match[1])]

    doctor_page = new_page()
    log_in(doctor_page, live_daphne, doctor.user)
    doctor_page.goto(f"{live_daphne}/doctor/")
    expect(doctor_page.locator(f'li.consultation[data-id="{match[1]}"]')).to_have_count(1)
    artifacts = settings.BASE_DIR / "artifacts"
    artifacts.mkdir(exist_ok=True)
    doctor_page.screenshot(path=artifacts / "e2e-doctor-dashboard.png", full_page=True)

    # The outbox worker beside the app sent the patient's SMS to the stub's
    # inbox and the doctor's invite to the mail folder, as bin/up does.
    sms = wait_for(lambda: [m for m in live_stack.stub.messages() if m["to"] == patient.relative_phone], "the patient's SMS", 15)
    assert len(sms) == 1 and "Hoa co lich kham tu xa" in sms[0]["body"]
    mails = wait_for(lambda: [p.read_text() for p in live_stack.mail_dir.glob("*")] if live_stack.mail_dir.exists() else [],
                     "the doctor's invite", 15)
    assert len(mails) == 1 and "To: doctor_phoyen@benhvien.example.vn" in mails[0]
    assert 'Content-Type: text/calendar; method="REQUEST"; charset="utf-8"' in mails[0]

    # The stub reports delivery to the app's signed webhook, and the patient's
    # relative answers "C" from the phone: the consultation is confirmed.
    booked_sms = Reminder.objects.filter(purpose="booked", recipient=patient.relative_phone)
    wait_for(lambda: booked_sms.filter(status="delivered").exists(), "the delivery report", 15)
    answer = live_stack.stub.inbound(patient.relative_phone, "C")
    assert answer["posts"][0]["status"] == 200, answer
    wait_for(lambda: Consultation.objects.filter(pk=match[1], patient_confirmed_at__isnull=False).exists(), "the confirmation", 15)


def test_worker_of_another_station_gets_404_for_our_patients_booking_page(live_daphne, new_page, doctor_all_week, patient, stranger):
    page = new_page()
    log_in(page, live_daphne, stranger)
    response = page.goto(f"{live_daphne}/station/patients/{patient.pk}/book/?doctor={doctor_all_week.pk}")
    assert response.status == 404
    expect(page.locator(".slots")).to_have_count(0)
    expect(page.locator("input[name=start]")).to_have_count(0)
    assert patient.full_name not in page.content()
