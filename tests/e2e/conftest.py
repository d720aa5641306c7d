"""Debian's Chromium driven by Playwright against the live servers of
tests/live_server.py, everything on 127.0.0.1."""

import os
import subprocess
from datetime import time, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from classrooms import actions as lesson_actions
from classrooms.models import Lesson, Pupil, School, SchoolClass, Teacher
from telecare.models import WeeklyAvailability
from tests.conftest import make_user
from tests.live_server import ARTIFACTS, database_url, free_port, stop, wait_for_http

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


def pytest_collection_modifyitems(items):
    # This hook sees every collected test, not only those below this folder.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package", autouse=True)
def allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop marked as running in this thread,
    so Django would refuse the ORM calls of test bodies and of the database flush.
    Scoped to this package so the rest of the suite keeps Django's check."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(allow_orm_beside_playwright):
    """Debian's Chromium (Playwright cannot download its own here). Package scope:
    once Playwright stops, no event loop is left running for the rest of the suite."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Opens a page in a fresh context (its own cookies: one user each), closed after the test."""
    contexts = []

    def open_page():
        # Vietnamese, as the pilot's users; fail in seconds rather than Playwright's 30 s.
        context = browser.new_context(locale="vi-VN")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


# The live servers read the real clock: these are set around it.

@pytest.fixture
def doctor_all_week(doctor):
    """The daphne child reads the real clock, so offer slots around it on every day."""
    doctor.availability.all().delete()
    for weekday in range(7):
        WeeklyAvailability.objects.create(doctor=doctor, weekday=weekday, starts_at=time(0), ends_at=time(23, 40), slot_minutes=20)
    return doctor


@pytest.fixture
def lesson_now(pilot):
    """Class 6A of teacher_phucthuan with three pupils, and a lesson now: the
    daphne child reads the real clock."""
    commune = pilot["phoyen"]["commune"]
    school = School.objects.create(name="Trường THCS Phúc Thuận", commune=commune)
    teacher = Teacher.objects.create(user=make_user("teacher_phucthuan", "Hằng", "Nguyễn Thị"), school=school)
    today = timezone.localdate()
    school_class = SchoolClass.objects.create(
        school=school, name="6A", grade=6, subject="Toán", teacher=teacher,
        term_start=today - timedelta(days=7), term_end=today + timedelta(days=60),
    )
    pupils = []
    for number, name in enumerate(["Hoàng Thị Mai", "Nông Văn Nam", "Lường Thị Lan"], start=1):
        pupil = Pupil.objects.create(
            user=make_user(f"pupil_phucthuan_{number}"), full_name=name, grade=6, commune=commune,
            guardian_name="Phụ huynh " + name.split()[-1],
        )
        lesson_actions.enrol(pupil=pupil, school_class=school_class)
        pupils.append(pupil)
    now = timezone.now()
    lesson = Lesson.objects.create(school_class=school_class, starts_at=now, ends_at=now + timedelta(minutes=45))
    return lesson, teacher, pupils


# daphne told about a coturn on loopback, for the calls forced through TURN.

@pytest.fixture(scope="module")
def turn_daphne(django_db_setup, turn_server, tmp_path_factory):
    """daphne (bin/serve) as a child process told about the coturn: STUN_URLS,
    TURN_URLS and TURN_SECRET in its environment, as a deployment sets them."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "DATABASE_URL": database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1",
        "PUBLIC_BASE_URL": base_url, "SMS_API_BASE": "http://127.0.0.1:9", "VAR_DIR": str(tmp_path_factory.mktemp("turn-e2e-var")),
        "STUN_URLS": f"stun:{turn_server.host}:{turn_server.port}",
        "TURN_URLS": ",".join(turn_server.urls), "TURN_SECRET": turn_server.secret, "TURN_CREDENTIAL_TTL": "600",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "e2e-turn-daphne.log"
    with log.open("w") as out:
        daphne = subprocess.Popen([str(ARTIFACTS.parent / "bin/serve"), "-b", "127.0.0.1", "-p", str(port)],
                                  cwd=ARTIFACTS.parent, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"{base_url}/accounts/login/", daphne, log)
        yield base_url
    finally:
        stop(daphne)
