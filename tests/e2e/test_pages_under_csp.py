"""Every kind of page, opened in Chromium by its role, runs under the site's
Content-Security-Policy without a single violation or console error: the
station's, the doctor's, the teacher's, the pupil's and the school's pages, both
rooms (with camera and microphone, which only they may use), every list of the
admin with its add and change pages, and the login page."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from booking import feeds
from classrooms import actions as lessons
from classrooms.models import Lesson, Pupil, Recording, School, SchoolClass, Teacher
from tests.conftest import PASSWORD, make_user
from tests.e2e.pages import log_in
from tests.samples import WEBM

pytestmark = pytest.mark.django_db(transaction=True)

# Reports every violation to the test, from the first script of each document on.
WATCH_POLICY = """document.addEventListener("securitypolicyviolation", (e) =>
  window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));"""
ALLOWS = "(feature) => document.featurePolicy ? document.featurePolicy.allowsFeature(feature) : null"


def is_favicon(message) -> bool:
    """Chromium asks every new profile for /favicon.ico, which the app does not have."""
    return message.location.get("url", "").endswith("/favicon.ico")


@pytest.fixture
def watched(new_page):
    """new_page(), with the page's policy violations, console errors and uncaught errors collected."""
    problems = []

    def open_page():
        page = new_page()
        page.context.expose_function("reportViolation", lambda text: problems.append(f"{page.url}: CSP {text}"))
        page.context.add_init_script(WATCH_POLICY)
        page.on("console", lambda m: m.type == "error" and not is_favicon(m) and problems.append(f"{page.url}: console {m.text}"))
        page.on("pageerror", lambda error: problems.append(f"{page.url}: error {error}"))
        return page

    open_page.problems = problems
    return open_page


@pytest.fixture
def district(live_stack, pilot, doctor_all_week, live_consultation, patient):
    consultation, now = live_consultation, timezone.now()
    for owner in (doctor_all_week, patient.station, patient):
        feeds.renew_feed(owner)
    commune = pilot["phoyen"]["commune"]
    school = School.objects.create(name="Trường THCS Phúc Thuận", commune=commune)
    staff = make_user("school_phucthuan", "Phúc Thuận", "Trường THCS")
    school.staff.add(staff)
    teacher = Teacher.objects.create(user=make_user("teacher_phucthuan", "Hằng", "Nguyễn Thị"), school=school)
    today = timezone.localdate()
    school_class = SchoolClass.objects.create(school=school, name="6A", grade=6, subject="Toán", teacher=teacher,
                                              term_start=today - timedelta(days=7), term_end=today + timedelta(days=60))
    pupil = Pupil.objects.create(user=make_user("pupil_phucthuan_1"), full_name="Hoàng Thị Mai", grade=6, commune=commune,
                                 guardian_name="Hoàng Văn Bình", guardian_phone="+84912100001", sms_consent=True)
    lessons.enrol(pupil=pupil, school_class=school_class)
    feeds.renew_feed(school_class)
    lesson = Lesson.objects.create(school_class=school_class, starts_at=now, ends_at=now + timedelta(minutes=45))
    past = Lesson.objects.create(school_class=school_class, starts_at=now - timedelta(days=2),
                                 ends_at=now - timedelta(days=2) + timedelta(minutes=45), started_at=now - timedelta(days=2),
                                 ended_at=now - timedelta(days=2) + timedelta(minutes=40))
    # The daphne child keeps recordings under its VAR_DIR.
    recordings = live_stack.mail_dir.parent / "recordings" / "lessons"
    recordings.mkdir(parents=True, exist_ok=True)
    (recordings / "a.webm").write_bytes(WEBM)
    replay = Recording.objects.create(lesson=past, path="lessons/a.webm", started_at=past.started_at,
                                      ended_at=past.ended_at, duration_seconds=2400, size_bytes=len(WEBM))
    manager = get_user_model().objects.create_superuser("admin", "admin@huyen.example.vn", PASSWORD)
    return {
        "consultation": consultation, "lesson": lesson, "class": school_class, "replay": replay, "teacher": teacher,
        "pupil": pupil, "staff": staff, "manager": manager,
    }


def visit(page, base_url, path, *, status=(200,)):
    response = page.goto(base_url + path)
    assert response.status in status, f"{path}: {response.status}"
    page.wait_for_load_state("load")
    return page


def may_use(page, feature):
    return page.evaluate(ALLOWS, feature)


def admin_paths(manager):
    request = RequestFactory().get("/admin/")
    request.user = manager
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        yield reverse("admin:%s_%s_changelist" % info), (200,)
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            yield reverse("admin:%s_%s_change" % info, args=[first.pk]), (200,)
        if model_admin.has_add_permission(request):
            yield reverse("admin:%s_%s_add" % info), (200,)


def test_every_page_kind_runs_without_policy_violations(live_daphne, watched, district, station_worker, patient,
                                                        doctor_all_week):
    base = live_daphne
    consultation, lesson = district["consultation"], district["lesson"]

    login = visit(watched(), base, "/accounts/login/")
    assert may_use(login, "camera") is False

    station = watched()
    log_in(station, base, station_worker)
    for path in ["/station/", "/station/?q=Hoa", f"/patients/{patient.pk}/", "/station/patients/new/",
                 f"/consultations/{consultation.pk}/"]:
        visit(station, base, path)
    assert may_use(station, "camera") is False and may_use(station, "microphone") is False
    # The feed's address is selected whole on a click (static/js/inputs.js).
    visit(station, base, f"/patients/{patient.pk}/").click("#feed-url")
    assert station.evaluate("() => document.getSelection().toString() || (document.activeElement.selectionEnd - document.activeElement.selectionStart)")
    # Choosing a doctor shows the doctor's free slots at once.
    visit(station, base, f"/station/patients/{patient.pk}/book/")
    with station.expect_navigation():
        station.select_option("#doctor", str(doctor_all_week.pk))
    assert f"doctor={doctor_all_week.pk}" in station.url and station.locator(".slots label").count() > 0
    chosen = station.url
    station.select_option("#doctor", "")  # back to "Choose a doctor": not a choice, nothing reloads
    station.wait_for_timeout(500)
    assert station.url == chosen
    visit(station, base, consultation.room_url())
    expect(station.locator("[data-room-root]")).to_have_attribute("data-connection", "connected", timeout=20_000)
    assert may_use(station, "camera") and may_use(station, "microphone") and not may_use(station, "display-capture")

    doctor = watched()
    log_in(doctor, base, doctor_all_week.user)
    visit(doctor, base, "/doctor/")
    visit(doctor, base, consultation.room_url())
    expect(doctor.locator("[data-room-root]")).to_have_attribute("data-connection", "connected", timeout=20_000)

    teacher = watched()
    log_in(teacher, base, district["teacher"].user)
    for path in ["/teacher/", f"/classes/{district['class'].pk}/", f"/recordings/{district['replay'].pk}/"]:
        visit(teacher, base, path)
    visit(teacher, base, lesson.room_url())
    expect(teacher.locator("[data-lesson-root]")).to_have_attribute("data-connection", "connected", timeout=20_000)
    assert may_use(teacher, "display-capture") and may_use(teacher, "camera")

    pupil = watched()
    log_in(pupil, base, district["pupil"].user)
    visit(pupil, base, "/pupil/")
    visit(pupil, base, lesson.room_url())
    expect(pupil.locator("[data-lesson-root]")).to_have_attribute("data-connection", "connected", timeout=20_000)
    pupil.click("[data-room=low-data]")  # still pictures (data: JPEGs) instead of video
    pupil.wait_for_timeout(1500)

    school = watched()
    log_in(school, base, district["staff"])
    visit(school, base, "/school/")

    manager = watched()
    log_in(manager, base, district["manager"])
    visit(manager, base, "/admin/")
    for path, status in admin_paths(district["manager"]):
        visit(manager, base, path, status=status)
    assert may_use(manager, "camera") is False

    assert watched.problems == [], "\n".join(watched.problems)
