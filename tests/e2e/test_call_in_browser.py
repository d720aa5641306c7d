"""A doctor page and a station page in Chromium hold a consultation through
daphne and the server's aiortc peer: each decodes the other's video."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from telecare.models import AuditEntry, Consultation
from tests.e2e.pages import frames_decoded, log_in
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

def test_doctor_and_station_see_each_other(live_daphne, new_page, live_consultation, doctor, station_worker):
    pages = {}
    for name, user in [("doctor", doctor.user), ("station", station_worker)]:
        page = new_page()
        log_in(page, live_daphne, user)
        page.goto(f"{live_daphne}{live_consultation.room_url()}")
        pages[name] = page
    for name, page in pages.items():
        first = frames_decoded(page, 10)
        assert first >= 10, f"{name} decoded {first} frames"
        later = frames_decoded(page, first + 15)
        assert later > first, f"{name}'s decoded frames stopped growing at {first}"
    assert pages["doctor"].locator("[data-room=others]").text_content() == "Trạm Y tế xã Phúc Thuận"
    assert "Nguyễn Văn Minh" in pages["station"].locator("[data-room=others]").text_content()
    artifacts = settings.BASE_DIR / "artifacts"
    artifacts.mkdir(exist_ok=True)
    pages["doctor"].screenshot(path=artifacts / "e2e-call-doctor.png", full_page=True)
    pages["station"].screenshot(path=artifacts / "e2e-call-station.png", full_page=True)

    # Muting and audio-only reach the other side.
    pages["station"].click("[data-room=mute]")
    pages["station"].click("[data-room=audio-only]")
    others = pages["doctor"].locator("[data-room=others]")
    wait_for(lambda: "chỉ âm thanh" in others.text_content(), "the doctor is told", 10, seen=others.text_content, interval=0.1)
    assert "tắt tiếng" in others.text_content() and "chỉ âm thanh" in others.text_content()
    assert sorted(AuditEntry.objects.filter(action="join_room").values_list("actor_username", flat=True)) == [
        "doctor_phoyen", "station_phucthuan"]


def test_a_stranger_cannot_enter_and_gets_no_media(live_daphne, new_page, live_consultation, stranger):
    page = new_page()
    log_in(page, live_daphne, stranger)
    assert page.goto(f"{live_daphne}{live_consultation.room_url()}").status == 404
    # Even talking to the socket directly: refused with 4403, and no peer connection.
    outcome = page.evaluate("""(url) => new Promise((resolve) => {
        const ws = new WebSocket(url);
        const seen = [];
        ws.onopen = () => ws.send(JSON.stringify({v: 1, type: "join"}));
        ws.onmessage = (e) => seen.push(JSON.parse(e.data).type);
        ws.onclose = (e) => resolve({code: e.code, seen});
    })""", live_daphne.replace("http", "ws") + f"/ws/rooms/{live_consultation.room_id}/")
    assert outcome == {"code": 4403, "seen": ["error"]}


def test_a_room_that_is_not_open_yet_says_when_it_opens(live_daphne, new_page, live_consultation, doctor):
    later = timezone.now() + timedelta(hours=3)
    Consultation.objects.filter(pk=live_consultation.pk).update(starts_at=later, ends_at=later + timedelta(minutes=20))
    page = new_page()
    log_in(page, live_daphne, doctor.user)
    page.goto(f"{live_daphne}{live_consultation.room_url()}")
    status = page.locator("[data-room=status]")
    wait_for(lambda: "Phòng mở lúc" in (status.text_content() or ""), "when the room opens", 10, seen=status.text_content,
             interval=0.1)
    assert page.locator("[data-room-root]").get_attribute("data-close-code") == "4403"


def test_a_refused_camera_is_explained_and_the_call_still_receives(live_daphne, new_page, live_consultation, doctor, station_worker):
    station = new_page()
    log_in(station, live_daphne, station_worker)
    station.goto(f"{live_daphne}{live_consultation.room_url()}")
    page = new_page()
    # As when the person clicks "Block" on the browser's camera prompt.
    page.add_init_script("""navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException("Permission denied", "NotAllowedError"));""")
    log_in(page, live_daphne, doctor.user)
    page.goto(f"{live_daphne}{live_consultation.room_url()}")
    assert frames_decoded(page, 10) >= 10  # the station's picture still arrives
    notice = page.locator("[data-room=notice]")
    assert notice.is_visible() and "Camera hoặc micrô bị từ chối" in notice.text_content()
