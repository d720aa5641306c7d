"""A teacher and three pupils hold a lesson in Chromium through daphne and the
server's aiortc fan-out: every pupil decodes the teacher's video; a pupil raises
a hand, gets the floor, and the teacher and another pupil hear that pupil; the
teacher ends the lesson and attendance is kept for the three."""

import time

import pytest
from django.conf import settings
from playwright.sync_api import expect

from classrooms.models import Attendance
from tests.e2e.pages import JPEG_DATA_URL, inbound, log_in
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# The kind and direction of each m-line of the page's offer.
OFFERED = """() => window.lesson.pc.localDescription.sdp.split(/\\r?\\nm=/).slice(1).map((section) =>
  [section.split(" ")[0], (section.match(/a=(sendrecv|sendonly|recvonly|inactive)/) || [])[1]])"""
SECONDS = 20  # the longest any single wait below may take






def hears(page, who: str):
    """The page's floor receiver gets sound that is not silence, and keeps getting it."""
    first = wait_for(lambda: (s := inbound(page, "floor"))["packets"] > 0 and s, f"{who} receives the floor's audio")
    # A user would press "Turn the sound on" if the browser kept it off.
    if page.locator("[data-room=sound]").is_visible():
        page.click("[data-room=sound]")
    later = wait_for(
        lambda: (s := inbound(page, "floor"))["packets"] >= first["packets"] + 50 and s["samples"] > first["samples"] and s,
        f"{who}'s floor audio keeps arriving and is played out",
    )
    loud = wait_for(lambda: (s := inbound(page, "floor"))["energy"] > later["energy"] and s, f"{who} hears the pupil's beep, not silence")
    wait_for(lambda: inbound(page, "floor")["level"] > 0, f"{who}'s floor audio level rises above 0")
    return loud



def open_room(new_page, base_url, user, lesson):
    page = new_page()
    log_in(page, base_url, user)
    page.goto(f"{base_url}{lesson.room_url()}")
    return page


def test_a_lesson_with_a_teacher_and_three_pupils(live_daphne, new_page, lesson_now):
    lesson, teacher, pupils = lesson_now
    teacher_page = open_room(new_page, live_daphne, teacher.user, lesson)
    pupil_pages = [open_room(new_page, live_daphne, pupil.user, lesson) for pupil in pupils]
    everyone = [teacher_page, *pupil_pages]
    for page in everyone:
        expect(page.locator("[data-lesson-root]")).to_have_attribute("data-connection", "connected", timeout=SECONDS * 1000)
    expect(teacher_page.locator("[data-room=pupils] li")).to_have_count(3, timeout=SECONDS * 1000)
    # Every page knows the three others (from "joined", then "participant-joined").
    for page, user in zip(everyone, [teacher.user, *(p.user for p in pupils)]):
        wait_for(lambda: page.evaluate("window.lesson.people.size") == 3, f"{user.username}'s page knows the 3 others",
                 timeout=5, seen=lambda: page.evaluate("[...window.lesson.people.values()].map((p) => p.name)"))
    assert teacher_page.evaluate(OFFERED) == [["audio", "sendrecv"], ["video", "sendrecv"]]
    for page in pupil_pages:
        assert page.evaluate(OFFERED) == [["audio", "sendrecv"], ["video", "recvonly"], ["audio", "recvonly"]]
    expect(pupil_pages[0].locator("[data-room=lesson-status]")).to_have_text("Đang chờ thầy cô bắt đầu buổi học…")
    expect(pupil_pages[0].locator("[data-room=hand]")).to_be_disabled()

    # The teacher starts the lesson; every pupil decodes the teacher's camera.
    teacher_page.click("[data-room=start]")
    for page in everyone:
        expect(page.locator("[data-lesson-root]")).to_have_attribute("data-lesson-state", "live", timeout=10_000)
    expect(teacher_page.locator("[data-room=end]")).to_be_visible()
    for number, page in enumerate(pupil_pages, start=1):
        first = wait_for(lambda: (s := inbound(page, "picture"))["frames"] >= 10 and s, f"pupil {number} decodes the teacher's video")
        wait_for(lambda: inbound(page, "picture")["frames"] >= first["frames"] + 15, f"pupil {number}'s decoded frames keep growing")
        wait_for(lambda: inbound(page, "voice")["packets"] > 0, f"pupil {number} receives the teacher's voice")

    # Sharing the screen replaces the camera on the same sender: the pupils'
    # decoders follow the new picture size, and the camera's when sharing stops.
    camera_width = inbound(pupil_pages[0], "picture")["width"]
    teacher_page.click("[data-room=share]")
    expect(teacher_page.locator("[data-room=share]")).to_have_attribute("aria-pressed", "true")
    for number, page in enumerate(pupil_pages, start=1):
        wait_for(lambda: (s := inbound(page, "picture"))["width"] not in (0, camera_width) and s, f"pupil {number} decodes the shared screen")
    teacher_page.click("[data-room=share]")
    for number, page in enumerate(pupil_pages, start=1):
        wait_for(lambda: inbound(page, "picture")["width"] == camera_width, f"pupil {number} decodes the camera again")

    # Mai raises her hand; her microphone stays off until the teacher gives her the floor.
    mai_page, nam_page, lan_page = pupil_pages
    mai_id = mai_page.evaluate("window.lesson.you.id")
    mai_row = teacher_page.locator(f'[data-room=pupils] li[data-pupil="{mai_id}"]')
    expect(mai_page.locator("[data-lesson-root]")).to_have_attribute("data-microphone", "off")
    mai_page.click("[data-room=hand]")
    expect(mai_row).to_have_class("hand", timeout=10_000)
    expect(teacher_page.locator("[data-room=hands]")).to_have_text("Đang giơ tay: Hoàng Thị Mai")
    expect(mai_page.locator("[data-room=hand]")).to_have_attribute("aria-pressed", "true")
    # Nobody has the floor yet: neither the teacher nor the others hear any pupil.
    time.sleep(1.5)
    assert inbound(teacher_page, "floor")["energy"] == inbound(nam_page, "floor")["energy"] == 0
    mai_row.locator("[data-action=floor]").click()
    expect(mai_page.locator("[data-room=floor-status]")).to_have_text("Em được phát biểu — hãy nói.", timeout=10_000)
    expect(mai_page.locator("[data-lesson-root]")).to_have_attribute("data-microphone", "on")
    expect(nam_page.locator("[data-room=floor-status]")).to_have_text("Hoàng Thị Mai đang phát biểu.")
    expect(mai_row.locator("[data-action=floor]")).to_have_text("Dừng phát biểu")
    expect(teacher_page.locator("[data-room=hands]")).to_have_text("")

    # The teacher and another pupil hear Mai.
    teacher_heard = hears(teacher_page, "the teacher")
    nam_heard = hears(nam_page, "another pupil")
    assert teacher_heard["energy"] > 0 and nam_heard["energy"] > 0
    artifacts = settings.BASE_DIR / "artifacts"
    artifacts.mkdir(exist_ok=True)
    teacher_page.screenshot(path=artifacts / "e2e-lesson-teacher.png", full_page=True)
    mai_page.screenshot(path=artifacts / "e2e-lesson-pupil-floor.png", full_page=True)
    nam_page.screenshot(path=artifacts / "e2e-lesson-pupil.png", full_page=True)

    # Chat reaches the class; muting Mai takes the floor back and turns her microphone off.
    lan_page.fill("[data-room=chat-text]", "Em chào cô ạ")
    lan_page.press("[data-room=chat-text]", "Enter")
    expect(teacher_page.locator("[data-room=chat] li").last).to_contain_text("Em chào cô ạ", timeout=10_000)
    expect(mai_page.locator("[data-room=chat] li").last).to_contain_text("Em chào cô ạ")
    mai_row.locator("[data-action=mute]").click()
    expect(mai_page.locator("[data-room=muted-note]")).to_be_visible(timeout=10_000)
    expect(mai_page.locator("[data-lesson-root]")).to_have_attribute("data-microphone", "off")
    expect(nam_page.locator("[data-room=floor-status]")).to_have_text("")

    # Low-data mode: Lan's page hides the video and shows a still picture every few seconds.
    lan_page.click("[data-room=low-data]")
    expect(lan_page.locator("[data-room=picture]")).to_be_hidden()
    still_every = getattr(settings, "LESSON_STILL_SECONDS", 5)
    expect(lan_page.locator("[data-room=still]")).to_have_attribute("src", JPEG_DATA_URL, timeout=(still_every + 10) * 1000)
    lan_page.screenshot(path=artifacts / "e2e-lesson-pupil-low-data.png", full_page=True)

    def video_stopped():
        before = inbound(lan_page, "picture")["frames"]
        time.sleep(1)
        return inbound(lan_page, "picture")["frames"] == before
    wait_for(video_stopped, "the teacher's video stops reaching the pupil in low-data mode", timeout=10)
    nam_frames = inbound(nam_page, "picture")["frames"]
    wait_for(lambda: inbound(nam_page, "picture")["frames"] >= nam_frames + 15, "the other pupils still get the teacher's video")

    # The teacher ends the lesson (after the browser's confirmation).
    teacher_page.once("dialog", lambda dialog: dialog.accept())
    teacher_page.click("[data-room=end]")
    for page in everyone:
        expect(page.locator("[data-lesson-root]")).to_have_attribute("data-lesson-state", "ended", timeout=10_000)
        expect(page.locator("[data-room=status]")).to_have_text("Buổi học đã kết thúc.")

    def attendance_closed():
        rows = list(Attendance.objects.filter(lesson=lesson).select_related("pupil"))
        closed = {row.pupil for row in rows if row.joined_at and row.left_at}
        return closed == set(pupils) and all(row.left_at for row in rows) and rows
    rows = wait_for(attendance_closed, "an attendance row with join and leave times for each pupil")
    assert {row.via for row in rows} == {Attendance.Via.OWN}
    lesson.refresh_from_db()
    assert lesson.started_at and lesson.ended_at
    assert all(row.joined_at <= row.left_at <= lesson.ended_at for row in rows)
