"""A consultation in Chromium whose station's link weakens (docs/signaling.md,
"Weak links"): the test thins the server-to-station path with `tc` on the
namespace's loopback (only the UDP flow between the station's page and its
server peer), the server steps the station down to audio only, both pages say
so, the station's page stops its camera and no video is decoded on either
side while the voices go on; with the link restored the server steps back up,
the page says the video is back and both sides decode video again."""

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest

from tests.e2e.pages import frames_decoded, log_in
from tests.live_server import ARTIFACTS
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

STATION = "Trạm Y tế xã Phúc Thuận"
# Fits the voice (the server's Opus at AUDIO_BITRATE, 24 kbit/s: about 45 kbit/s
# with the packets' headers) but not the smallest picture beside it (160x120
# at 7 fps, about 55 kbit/s): the server has to go all the way to audio only.
THIN_RATE = "80kbit"
STEP_DOWN_SECONDS = 30  # three steps of 2 s of a bad link, and the reports' delay, on a busy machine
DRAIN_SECONDS = 20  # what was on its way when the server stopped the video (3 to 6 s seen)
STEP_UP_SECONDS = 40  # 8 s of a clean link before the first step up (quality.UP_AFTER), more if one did not hold

# What a page receives, decodes and sends, what it was told about links, and
# which UDP ports its selected candidate pair uses.
PAGE_STATE = """async () => {
  const room = window.room;
  if (!room || !room.pc) return null;
  const stats = await room.pc.getStats();
  const state = {video: 0, audio: 0, sent: 0, pair: null};
  stats.forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") state.video = r.framesDecoded || 0;
    if (r.type === "inbound-rtp" && r.kind === "audio") state.audio = r.packetsReceived || 0;
    if (r.type === "outbound-rtp" && r.kind === "video") state.sent = r.framesEncoded || 0;
    if (r.type === "transport" && r.selectedCandidatePairId) {
      const pair = stats.get(r.selectedCandidatePairId);
      state.pair = {page: stats.get(pair.localCandidateId).port, server: stats.get(pair.remoteCandidateId).port};
    }
  });
  state.camera = Boolean(room.video && room.video.sender.track);
  state.quality = room.quality.received.map((m) => m.type === "quality" ? m : {...m.quality, id: m.id, type: m.type});
  state.grade = room.root.dataset.linkGrade || null;
  state.now = Date.now();
  return state;
}"""


def loopback_namespace() -> bool:
    """Root in a network namespace that has only loopback (bin/test's), where
    shaping lo touches nothing but this test's own traffic."""
    return os.geteuid() == 0 and shutil.which("tc") is not None and [name for _, name in socket.if_nameindex()] == ["lo"]


def tc(*args):
    subprocess.run(["tc", *args], check=True, capture_output=True)


@contextmanager
def thin_link(server_port: int, page_port: int, rate: str = THIN_RATE):
    """UDP from the server's peer to the page's port goes through an HTB class
    of `rate` with a short queue: what does not fit is late, then lost, as on
    a weak mobile downlink. (This kernel has no netem for random loss.) Other
    traffic, the page's uplink included, is not classified and passes as is."""
    tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb")
    try:
        tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:1", "htb", "rate", rate, "ceil", rate,
           "burst", "3k", "cburst", "3k")
        tc("qdisc", "add", "dev", "lo", "parent", "1:1", "handle", "10:", "pfifo", "limit", "8")
        tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
           "match", "ip", "protocol", "17", "0xff", "match", "ip", "sport", str(server_port), "0xffff",
           "match", "ip", "dport", str(page_port), "0xffff", "flowid", "1:1")
        yield
    finally:
        tc("qdisc", "del", "dev", "lo", "root")




def pictures_stopped(pages, seconds: float = 3.0) -> bool:
    before = [page.evaluate(PAGE_STATE)["video"] for page in pages.values()]
    time.sleep(seconds)
    return before == [page.evaluate(PAGE_STATE)["video"] for page in pages.values()]


def own_steps(state) -> list[dict]:
    return [q for q in state["quality"] if q["type"] == "quality"]


def test_a_weak_link_steps_the_station_down_to_audio_only_and_back_up(live_daphne, new_page, live_consultation,
                                                                    doctor, station_worker):
    if not loopback_namespace():
        pytest.skip("needs root in a loopback-only network namespace with tc (bin/test runs e2e in one)")
    pages = {}
    for name, user in [("doctor", doctor.user), ("station", station_worker)]:
        page = new_page()
        log_in(page, live_daphne, user)
        page.goto(f"{live_daphne}{live_consultation.room_url()}")
        pages[name] = page
    doctor_page, station_page = pages["doctor"], pages["station"]
    for name, page in pages.items():
        assert frames_decoded(page, 10) >= 10, f"{name} decodes no video"
    state = {name: page.evaluate(PAGE_STATE) for name, page in pages.items()}

    # Both pages show the grade of their link, with a text equivalent.
    for name, page in pages.items():
        level = page.locator("[data-room=quality-level]")
        wait_for(level.is_visible, f"{name}'s quality indicator", 10)
        assert level.get_attribute("role") == "status"
        assert level.text_content().startswith("Kết nối: "), level.text_content()

    def station_state():
        return station_page.evaluate(PAGE_STATE)

    pair = state["station"]["pair"]
    with thin_link(pair["server"], pair["page"]):
        down = wait_for(lambda: (s := station_state()) and any(not q["video"] for q in own_steps(s)) and s,
                        "the server steps the station down to audio only", STEP_DOWN_SECONDS,
                        seen=lambda: own_steps(station_state()))
        steps = own_steps(down)
        assert {q["reason"] for q in steps} <= {"loss", "bandwidth"}, steps
        assert steps[-1]["level"] == "audio" and steps[-1]["video"] is False, steps
        note = station_page.locator("[data-room=quality-note]")
        assert "Kết nối yếu" in note.text_content() and "chỉ âm thanh" in note.text_content(), note.text_content()
        assert station_page.locator("[data-room=quality-level]").text_content() == "Kết nối: kém"
        # The doctor's page hears of it, and the station's camera has stopped.
        others = doctor_page.locator("[data-room=quality-others]")
        wait_for(lambda: "chỉ âm thanh" in others.text_content(), "the doctor is told", 10, seen=others.text_content)
        assert others.text_content() == f"Kết nối của {STATION} yếu: chỉ âm thanh."
        assert down["camera"] is False

        # No picture either way; the voices go on (50 packets a second). What
        # was on its way, and the retransmissions Chromium asks for, take some
        # seconds through the thin link: the station decodes that first.
        wait_for(lambda: pictures_stopped(pages), "no more video decoded", DRAIN_SECONDS)
        before = {name: page.evaluate(PAGE_STATE) for name, page in pages.items()}
        time.sleep(4.0)
        after = {name: page.evaluate(PAGE_STATE) for name, page in pages.items()}
        since = (after["station"]["now"] - steps[-1]["at"]) / 1000
        for name in pages:
            # At the smallest picture's 7 fps a few seconds would show 25 frames or more.
            assert after[name]["video"] - before[name]["video"] <= 2, (
                f"{name} still decodes video {since:.1f} s after the step: {before[name]} {after[name]}")
            assert after[name]["audio"] - before[name]["audio"] >= 100, f"{name}'s sound stopped: {before[name]} {after[name]}"
        assert after["station"]["sent"] == before["station"]["sent"], "the station's camera is still encoded"
        assert not any(q["level"] == "high" for q in own_steps(after["station"])[len(steps):]), "stepped up while still thin"
        for name, page in pages.items():
            page.screenshot(path=ARTIFACTS / f"e2e-weak-link-audio-only-{name}.png", full_page=True)

    # The link is whole again: after a clean spell the video comes back, then the full picture.
    up = wait_for(lambda: (s := station_state()) and own_steps(s)[-1]["video"] and s,
                  "the server steps the station back up to video", STEP_UP_SECONDS,
                  seen=lambda: own_steps(station_state()))
    assert own_steps(up)[-1]["reason"] == "recovered"
    note = station_page.locator("[data-room=quality-note]")
    assert "Kết nối đã hồi phục: có hình trở lại." in note.text_content(), note.text_content()
    assert up["camera"] is True
    for name, page in pages.items():
        start = page.evaluate(PAGE_STATE)["video"]
        assert frames_decoded(page, start + 10) >= start + 10, f"{name} decodes no video after the recovery"
    wait_for(lambda: own_steps(station_state())[-1]["level"] == "high", "back to the full picture", STEP_UP_SECONDS,
             seen=lambda: own_steps(station_state()))
    wait_for(lambda: "đã hồi phục" in doctor_page.locator("[data-room=quality-others]").text_content(),
             "the doctor is told of the recovery", 10)
    for name, page in pages.items():
        page.screenshot(path=ARTIFACTS / f"e2e-weak-link-recovered-{name}.png", full_page=True)
