"""Calls that come back, in Chromium (docs/signaling.md, "Reconnecting"): a doctor
page and a station page through daphne and the server's aiortc peer.

Each page is loaded through a TCP proxy the test runs on loopback; severing the
proxy's connections drops that page's socket as a mobile link would, while the
media (UDP, not through the proxy) goes on. Starving UDP on the namespace's
loopback with `tc` cuts the media path instead, and when it is starved from the
start the call cannot get through at all."""

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import INBOUND_VIDEO, JPEG_DATA_URL, SELECTED_PAIR, inbound, log_in
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = 20  # the longest any single wait below may take
STATION = "Trạm Y tế xã Phúc Thuận"
DOCTOR = "Nguyễn Văn Minh"
# Every server message a page gets from now on, in window.room.seen (or window.lesson.seen).
RECORD_MESSAGES = """(name) => {
  const room = window[name];
  if (room.seen) return;
  room.seen = [];
  const receive = room.receive.bind(room);
  room.receive = (message) => { room.seen.push(message); return receive(message); };
}"""


class SeverableProxy:
    """A TCP proxy on 127.0.0.1 to the live daphne, on an event loop of its own
    thread. sever() resets every connection it carries, both ways; while
    `refusing`, new connections are reset as soon as they are accepted."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.refusing = False
        self.links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.run(asyncio.start_server(self.serve, "127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    async def serve(self, reader, writer):
        if self.refusing:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, upstream)
        self.links.add(link)
        try:
            await asyncio.gather(pipe(reader, upstream), pipe(upstream_reader, writer))
        finally:
            self.links.discard(link)

    def sever(self):
        async def reset_all():
            for link in list(self.links):
                for end in link:
                    end.transport.abort()
        self.run(reset_all())

    def close(self):
        self.sever()

        async def stop():
            self.server.close()
            await self.server.wait_closed()
        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


async def pipe(reader, writer):
    """Copies until the reader's side closes, then closes the writer's (after what it holds)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@pytest.fixture
def proxies(live_daphne):
    made = []

    def make():
        made.append(SeverableProxy(urlsplit(live_daphne).port))
        return made[-1]

    yield make
    for proxy in made:
        proxy.close()


def loopback_namespace() -> bool:
    """Root in a network namespace that has only loopback (bin/test's), where
    starving UDP cannot touch anything but this test's own traffic."""
    return os.geteuid() == 0 and shutil.which("tc") is not None and [name for _, name in socket.if_nameindex()] == ["lo"]


def tc(*args):
    subprocess.run(["tc", *args], check=True, capture_output=True)


@contextmanager
def udp_starved():
    """Every UDP packet on lo goes to an HTB class of 8 bit/s with room for one
    packet, that is, nowhere: this kernel has no netem, prio or gact, which
    would drop them outright. Other traffic bypasses the class."""
    if not loopback_namespace():
        pytest.skip("needs root in a loopback-only network namespace with tc (bin/test runs e2e in one)")
    tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb")
    try:
        tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:1", "htb", "rate", "8bit", "ceil", "8bit", "burst", "1b", "cburst", "1b")
        tc("qdisc", "add", "dev", "lo", "parent", "1:1", "handle", "10:", "pfifo", "limit", "1")
        tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip", "protocol", "17", "0xff", "flowid", "1:1")
        tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ipv6", "prio", "2", "u32", "match", "ip6", "protocol", "17", "0xff", "flowid", "1:1")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            # The class's first packet still leaves and the next fills its queue: spend both here.
            probe.bind(("127.0.0.1", 0))
            probe.settimeout(0.5)
            for _ in range(3):
                probe.sendto(b"spent", probe.getsockname())
            probe.sendto(b"dropped?", probe.getsockname())
            try:
                while probe.recv(64) != b"dropped?":
                    pass
                raise AssertionError("UDP still flows on lo")
            except TimeoutError:
                pass
        yield
    finally:
        tc("qdisc", "del", "dev", "lo", "root")




def frames(page) -> int:
    """Video frames decoded on the page's current peer connection."""
    return page.evaluate(INBOUND_VIDEO) or 0


def decodes(page, who: str, more_than: int = 0):
    """The page decodes video, and keeps decoding it."""
    first = wait_for(lambda: (n := frames(page)) >= more_than + 10 and n, f"{who} decodes video")
    wait_for(lambda: frames(page) >= first + 15, f"{who}'s decoded frames keep growing", seen=lambda: frames(page))


def open_room(new_page, base_url, user, live_consultation, before_load=None):
    page = new_page()
    log_in(page, base_url, user)
    if before_load:
        before_load(page)
    page.goto(f"{base_url}{live_consultation.room_url()}")
    return page


def seen(page, kind: str, participant_id: str, connection: str = "room") -> list:
    return page.evaluate(
        "([name, kind, id]) => window[name].seen.filter((m) => m.type === kind && (m.id ?? m.participant?.id) === id)",
        [connection, kind, participant_id])


def in_call(new_page, base_url, live_consultation, doctor, station_worker, proxies=None, before_load=None):
    """The doctor's and the station's pages, each decoding the other's video."""
    pages = {}
    for name, user in [("doctor", doctor.user), ("station", station_worker)]:
        url = proxies[name].url if proxies else base_url
        pages[name] = open_room(new_page, url, user, live_consultation, before_load)
    for name, page in pages.items():
        decodes(page, name)
        page.evaluate(RECORD_MESSAGES, "room")
    return pages


def test_a_page_whose_socket_drops_gets_its_place_back_and_the_call_goes_on(
        live_daphne, new_page, proxies, live_consultation, doctor, station_worker):
    links = {"doctor": proxies(), "station": proxies()}
    pages = in_call(new_page, live_daphne, live_consultation, doctor, station_worker, proxies=links)
    ids = {name: page.evaluate("window.room.you.id") for name, page in pages.items()}

    for cut, other, name in [("station", "doctor", STATION), ("doctor", "station", DOCTOR)]:
        # The link drops, and stays down for a few seconds.
        links[cut].refusing = True
        links[cut].sever()
        root = pages[cut].locator("[data-room-root]")
        expect(root).to_have_attribute("data-socket", "reconnecting", timeout=SECONDS * 1000)
        expect(pages[cut].locator("[data-room=status]")).to_have_text("Đang kết nối lại…")
        reconnecting = pages[other].locator("[data-room=peers-status]")
        expect(reconnecting).to_contain_text(f"{name}", timeout=SECONDS * 1000)
        expect(reconnecting).to_contain_text("đang kết nối lại…")
        # The media path does not go through the socket: both sides keep decoding.
        for page in pages.values():
            before = frames(page)
            wait_for(lambda: frames(page) >= before + 15, "video keeps flowing while the socket is down")
        links[cut].refusing = False

        # The page comes back by itself, as the same participant, on the same peer connection.
        expect(root).to_have_attribute("data-socket", "open", timeout=SECONDS * 1000)
        expect(root).to_have_attribute("data-resumed", "true")
        # "Reconnected.", unless news of the other side has put "In the call." there since.
        expect(pages[cut].locator("[data-room=status]")).to_have_text(re.compile(r"^(Đã kết nối lại\.|Đang trong cuộc gọi\.)$"))
        assert pages[cut].evaluate("window.room.you.id") == ids[cut]
        assert pages[cut].evaluate("window.room.peers") == 1
        expect(reconnecting).to_have_text("", timeout=SECONDS * 1000)
        for page_name, page in pages.items():
            before = frames(page)
            wait_for(lambda: frames(page) >= before + 15, f"{page_name}'s video keeps flowing after the reconnect")
        assert seen(pages[other], "participant-reconnecting", ids[cut])
        assert seen(pages[other], "participant-joined", ids[cut])
        assert not seen(pages[other], "participant-left", ids[cut])
    assert pages["doctor"].locator("[data-room=others]").text_content() == STATION


def test_a_reloaded_page_gets_its_place_back(live_daphne, new_page, live_consultation, doctor, station_worker):
    pages = in_call(new_page, live_daphne, live_consultation, doctor, station_worker)
    station_id = pages["station"].evaluate("window.room.you.id")
    pages["station"].reload()
    root = pages["station"].locator("[data-room-root]")
    expect(root).to_have_attribute("data-resumed", "true", timeout=SECONDS * 1000)
    assert pages["station"].evaluate("window.room.you.id") == station_id
    decodes(pages["station"], "the reloaded station")
    decodes(pages["doctor"], "the doctor", more_than=frames(pages["doctor"]))
    assert not seen(pages["doctor"], "participant-left", station_id)


def test_a_page_cut_off_past_its_limit_says_so_and_tries_again(
        live_daphne, new_page, proxies, live_consultation, doctor, station_worker):
    def give_up_after_two_seconds(page):
        # In the page's config as it is read (a document fulfilled by page.route
        # would count as public, and Chromium would keep its socket off loopback).
        page.add_init_script("""(() => {
          const parse = JSON.parse;
          JSON.parse = (...args) => {
            const value = parse(...args);
            if (value && typeof value === "object" && "reconnectSeconds" in value) value.reconnectSeconds = 2;
            return value;
          };
        })()""")

    link = proxies()
    station = open_room(new_page, link.url, station_worker, live_consultation, give_up_after_two_seconds)
    doctor_page = open_room(new_page, live_daphne, doctor.user, live_consultation)
    for who, page in [("station", station), ("doctor", doctor_page)]:
        decodes(page, who)
    assert station.evaluate("window.room.config.reconnectSeconds") == 2
    doctor_page.evaluate(RECORD_MESSAGES, "room")
    station_id = station.evaluate("window.room.you.id")

    link.refusing = True
    link.sever()
    root = station.locator("[data-room-root]")
    expect(root).to_have_attribute("data-socket", "lost", timeout=SECONDS * 1000)
    expect(station.locator("[data-room=status]")).to_have_text("Đã mất kết nối. Hãy kiểm tra mạng rồi thử lại.")
    try_again = station.locator("[data-action=try-again]")
    expect(try_again).to_be_visible()
    expect(try_again).to_have_text("Thử lại")
    assert station.evaluate("window.room.pc") is None  # given up: no media either

    link.refusing = False
    try_again.click()
    expect(root).to_have_attribute("data-socket", "open", timeout=SECONDS * 1000)
    expect(try_again).to_be_hidden()
    # The server still kept the place: the same participant, on a new peer connection.
    expect(root).to_have_attribute("data-resumed", "true")
    assert station.evaluate("window.room.you.id") == station_id
    decodes(station, "the station after trying again")
    assert station.evaluate("window.room.peers") == 2
    assert not seen(doctor_page, "participant-left", station_id)


def test_when_the_media_path_drops_both_pages_connect_afresh(live_daphne, new_page, live_consultation, doctor, station_worker):
    if not loopback_namespace():
        pytest.skip("needs root in a loopback-only network namespace with tc (bin/test runs e2e in one)")
    pages = in_call(new_page, live_daphne, live_consultation, doctor, station_worker)
    ids = {name: page.evaluate("window.room.you.id") for name, page in pages.items()}
    with udp_starved():
        for name, page in pages.items():
            wait_for(lambda: page.evaluate("window.room.peers") >= 2, f"{name}'s page gives up its dead peer connection",
                     seen=lambda: page.locator("[data-room-root]").get_attribute("data-connection"))
            expect(page.locator("[data-room=status]")).to_have_text("Đang kết nối lại cuộc gọi…")
        time.sleep(3)  # a while longer: the new peer connection does not get through either
    for name, page in pages.items():
        root = page.locator("[data-room-root]")
        # A peer connection made while UDP was starved may fail first, and the next one get through.
        expect(root).to_have_attribute("data-connection", "connected", timeout=2 * SECONDS * 1000)
        expect(page.locator("[data-room=status]")).to_have_text("Cuộc gọi đã được nối lại.")
        decodes(page, f"{name}'s new peer connection")
        # The socket stayed up all along: the same participants.
        expect(root).to_have_attribute("data-socket", "open")
        assert page.evaluate("window.room.you.id") == ids[name]
    for name, other in [("doctor", "station"), ("station", "doctor")]:
        assert not seen(pages[name], "participant-reconnecting", ids[other])
        assert not seen(pages[name], "participant-left", ids[other])


INBOUND_AUDIO_PACKETS = """async () => {
  const stats = await window.room.pc.getStats();
  let packets = 0;
  stats.forEach((r) => { if (r.type === "inbound-rtp" && r.kind === "audio") packets = r.packetsReceived; });
  return packets;
}"""


def test_audio_over_turn_tcp_gets_through_a_real_coturn(
        turn_daphne, turn_server, new_page, live_consultation, doctor, station_worker):
    pages = in_call(new_page, turn_daphne, live_consultation, doctor, station_worker)
    station, doctor_page = pages["station"], pages["doctor"]
    station.evaluate("window.room.relayAudio()")  # what the "Audio only over TURN/TCP" button does
    expect(station.locator("[data-room=status]")).to_have_text(
        "Đang trong cuộc gọi: chỉ âm thanh qua TURN/TCP.", timeout=SECONDS * 1000)
    configuration = station.evaluate("window.room.pc.getConfiguration()")
    assert configuration["iceTransportPolicy"] == "relay"
    assert [server["urls"] for server in configuration["iceServers"]] == [[turn_server.url("tcp"), turn_server.url("tls")]]
    pair = wait_for(lambda: (p := station.evaluate(SELECTED_PAIR)) and p["state"] == "succeeded" and p,
                    "a selected candidate pair")
    assert pair["local"] == "relay" and pair["relayProtocol"] in ("tcp", "tls"), pair
    expect(doctor_page.locator("[data-room=others]")).to_contain_text("chỉ âm thanh")
    for name, page in pages.items():
        before = page.evaluate(INBOUND_AUDIO_PACKETS)
        wait_for(lambda: page.evaluate(INBOUND_AUDIO_PACKETS) >= before + 50, f"{name} keeps hearing the other side")
    assert station.evaluate("window.room.video.sender.track") is None


def fake_tcp_turn(sent: list):
    """Routes a page's room socket through Playwright: `joined` gets ICE servers
    with a TCP TURN entry, and what the page sends is kept in `sent`."""
    servers = [{"urls": ["stun:127.0.0.1:3478"]},
               {"urls": ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"], "username": "1:u", "credential": "c"}]

    def route(ws):
        server = ws.connect_to_server()

        def to_page(message):
            data = json.loads(message)
            if data.get("type") == "joined":
                data["ice_servers"] = servers
            ws.send(json.dumps(data))

        def to_server(message):
            sent.append(json.loads(message))
            server.send(message)

        server.on_message(to_page)
        ws.on_message(to_server)

    return lambda page: page.route_web_socket(re.compile(r"/ws/rooms/"), route)


def test_a_network_that_blocks_udp_is_named_and_turn_over_tcp_offered(
        live_daphne, new_page, live_consultation, doctor, station_worker):
    sent = []
    with udp_starved():
        # The server has no TURN for the doctor's page: nothing to offer but another network.
        doctor_page = open_room(new_page, live_daphne, doctor.user, live_consultation)
        station = open_room(new_page, live_daphne, station_worker, live_consultation, fake_tcp_turn(sent))
        for page in (doctor_page, station):
            expect(page.locator("[data-room-root]")).to_have_attribute("data-media", "blocked", timeout=SECONDS * 1000)
        expect(doctor_page.locator("[data-room=status]")).to_have_text(
            "Cuộc gọi không đi qua được mạng này. Hãy thử mạng khác, ví dụ dữ liệu di động.")
        expect(doctor_page.locator("[data-room=recovery]")).to_be_hidden()
        expect(station.locator("[data-room=status]")).to_have_text(
            "Cuộc gọi không đi qua được mạng này. Bạn có thể thử chỉ dùng âm thanh qua TURN/TCP.")
        relay = station.locator("[data-action=relay-audio]")
        expect(relay).to_be_visible()
        expect(relay).to_have_text("Chỉ âm thanh qua TURN/TCP")

        relay.click()
        expect(relay).to_be_hidden()
        expect(station.locator("[data-room=status]")).to_have_text("Đang kết nối chỉ âm thanh qua TURN/TCP…")
        configuration = station.evaluate("window.room.pc.getConfiguration()")
        assert configuration["iceTransportPolicy"] == "relay"
        assert [server["urls"] for server in configuration["iceServers"]] == [["turn:127.0.0.1:3478?transport=tcp"]]
        expect(station.locator("[data-room=audio-only]")).to_have_attribute("aria-pressed", "true")
        assert station.evaluate("window.room.video.sender.track") is None  # no picture goes up
        assert [m["type"] for m in sent].count("offer") >= 2
        media = wait_for(lambda: [m for m in sent if m["type"] == "media"], "the station page says it is audio only")
        assert media[-1]["audio_only"] is True


def test_a_pupil_cut_off_mid_lesson_comes_back_with_the_hand_and_the_mode_chosen_meanwhile(
        live_daphne, new_page, proxies, lesson_now):
    lesson, teacher, pupils = lesson_now
    link = proxies()
    teacher_page = new_page()
    log_in(teacher_page, live_daphne, teacher.user)
    teacher_page.goto(f"{live_daphne}{lesson.room_url()}")
    pupil = new_page()
    log_in(pupil, link.url, pupils[0].user)
    pupil.goto(f"{link.url}{lesson.room_url()}")
    pupil_root = pupil.locator("[data-lesson-root]")
    for page in (teacher_page, pupil):
        expect(page.locator("[data-lesson-root]")).to_have_attribute("data-connection", "connected", timeout=SECONDS * 1000)
    teacher_page.click("[data-room=start]")
    expect(pupil_root).to_have_attribute("data-lesson-state", "live", timeout=SECONDS * 1000)
    wait_for(lambda: inbound(pupil, "picture")["frames"] >= 10, "the pupil decodes the teacher's video")
    pupil_id = pupil.evaluate("window.lesson.you.id")
    row = teacher_page.locator(f'[data-room=pupils] li[data-pupil="{pupil_id}"]')
    pupil.click("[data-room=hand]")
    expect(row).to_have_class("hand", timeout=SECONDS * 1000)
    pupil.click("[data-room=low-data]")
    expect(pupil.locator("[data-room=still]")).to_have_attribute("src", JPEG_DATA_URL, timeout=SECONDS * 1000)
    teacher_page.evaluate(RECORD_MESSAGES, "lesson")

    link.refusing = True
    link.sever()
    expect(pupil_root).to_have_attribute("data-socket", "reconnecting", timeout=SECONDS * 1000)
    expect(teacher_page.locator("[data-room=peers-status]")).to_have_text("Hoàng Thị Mai đang kết nối lại…", timeout=SECONDS * 1000)
    # Meanwhile the pupil leaves low-data mode: the server cannot hear of it yet.
    pupil.click("[data-room=low-data]")
    expect(pupil.locator("[data-room=picture]")).to_be_visible()
    link.refusing = False

    expect(pupil_root).to_have_attribute("data-socket", "open", timeout=SECONDS * 1000)
    expect(pupil_root).to_have_attribute("data-resumed", "true")
    assert pupil.evaluate("window.lesson.you.id") == pupil_id
    expect(teacher_page.locator("[data-room=peers-status]")).to_have_text("")
    # The hand stayed up, and the mode chosen meanwhile reached the server: the teacher's video again.
    expect(pupil.locator("[data-room=hand]")).to_have_attribute("aria-pressed", "true")
    expect(row).to_have_class("hand")
    expect(teacher_page.locator("[data-room=hands]")).to_have_text("Đang giơ tay: Hoàng Thị Mai")
    before = inbound(pupil, "picture")["frames"]
    wait_for(lambda: inbound(pupil, "picture")["frames"] >= before + 15, "the pupil decodes the teacher's video again",
             seen=lambda: inbound(pupil, "picture"))
    assert pupil.evaluate("window.lesson.peers") == 1
    assert not seen(teacher_page, "participant-left", pupil_id, "lesson")
