"""A consultation's media is forwarded: while both links are good the server
neither decodes nor encodes a picture; a receiver stepped down gets a server
encode at its level, one decode of the source and one encode per level
shared by every receiver at that level; recording writes the encoded frames."""

import asyncio

import av
import pytest
from aiortc.sdp import SessionDescription

from signaling.media import quality
from signaling.media.call_recorder import CallRecorder
from signaling.media.encoded import SenderControl
from signaling.media.peer import capped
from signaling.media.quality import LinkAdapter, call_levels
from signaling.media.router import PairMediaRouter
from tests.signaling.router_participant import Participant
from tests.waiting import eventually

DOCTOR_SHADE, STATION_SHADE = 40, 220


@pytest.fixture
async def call(monkeypatch):
    # The link adapter must not step anyone on its own here: only the test does.
    monkeypatch.setattr(quality, "UP_AFTER", 3600.0)
    router = PairMediaRouter("forwarding-room", ice_servers=[], fanout="forward")
    people = []

    async def join(participant_id, side, shade):
        participant = await Participant(shade).join(router, participant_id, side)
        people.append(participant)
        return participant

    yield router, join
    for participant in people:
        await participant.close()
    await router.close()


def step(router, participant_id, level_name):
    """What the link adapter does when it moves this participant to that level."""
    peer = router.participants[participant_id]
    levels = call_levels()
    if peer.link is None:
        peer.link = LinkAdapter(levels)
        peer.bandwidth = SenderControl(peer.senders["video"])
    peer.link.index = [level.name for level in levels].index(level_name)
    router._apply_level(peer, peer.link.level)


def widths(participant, last=5):
    return {width for _, width in participant.video_frames[-last:]}


async def test_a_call_forwards_each_sides_frames_without_decoding_or_encoding(call, tmp_path):
    router, join = call
    doctor = await join("doctor", "doctor", DOCTOR_SHADE)
    station = await join("station", "station", STATION_SHADE)
    await eventually(lambda: doctor.video_rate() >= 10 and station.video_rate() >= 10,
                     "both sides see each other at full rate", 15, interval=0.1)
    assert router.decoded == {} and router.levels == {}
    for peer in router.participants.values():
        # aiortc's sender makes its encoder on the first frame, but opens a codec only to encode.
        assert peer.senders["video"]._RTCRtpSender__encoder.codec is None
        assert peer.outgoing["video"].frames > 0

    recorder = CallRecorder(router, tmp_path / "call.webm")
    await router.start_recording(recorder)
    await asyncio.sleep(1.5)
    info = await router.stop_recording()
    assert router.decoded == {}  # the recording did not decode the picture either
    with av.open(str(info.path)) as container:
        pictures = list(container.decode(video=0))
    assert len(pictures) >= 10
    luma = bytes(pictures[-1].planes[0])
    assert sum(luma[::97]) / len(luma[::97]) > (DOCTOR_SHADE + STATION_SHADE) / 2  # the station's picture


async def test_receivers_stepped_down_share_one_decode_and_one_encode_per_level(call):
    router, join = call
    await join("doctor", "doctor", DOCTOR_SHADE)
    stations = [await join(f"station-{n}", "station", STATION_SHADE) for n in range(3)]
    await eventually(lambda: all(s.video_rate() >= 10 for s in stations), "every station sees the doctor", 15, interval=0.1)
    assert all(widths(s) == {320} for s in stations)

    step(router, "station-0", "medium")
    step(router, "station-1", "medium")
    step(router, "station-2", "low")
    doctor_tracks = router.participants["doctor"].incoming
    await eventually(lambda: widths(stations[0]) == widths(stations[1]) == {240} and widths(stations[2]) == {160},
                     "each station gets the picture of its level", 15, seen=lambda: [widths(s) for s in stations], interval=0.1)
    assert set(router.decoded) == {doctor_tracks["video"], doctor_tracks["audio"]}  # each decoded once
    assert set(router.levels) == {(doctor_tracks["video"], "medium"), (doctor_tracks["video"], "low"),
                                  (doctor_tracks["audio"], "voice")}  # one encode per level
    medium = router.levels[(doctor_tracks["video"], "medium")]
    assert len(medium.subscribers) == 2 and medium.source.codec.bit_rate == call_levels()[1].bitrate

    for n in range(3):
        step(router, f"station-{n}", "high")
    await eventually(lambda: all(widths(s) == {320} for s in stations), "back to the forwarded picture", 15, interval=0.1)
    assert router.decoded == {} and router.levels == {}  # nothing is decoded or encoded any more


def test_the_answer_tells_the_browser_the_most_it_may_send():
    offer = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n"
        "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n"
    )
    answer = capped(offer, video=300_000, audio=24_000)
    video = answer.split("m=video", 1)[1]
    assert "c=IN IP4 0.0.0.0\r\nb=AS:300\r\nb=TIAS:300000\r\na=mid:1" in video
    assert "a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate=24000\r\n" in answer
    assert "b=AS" not in answer.split("m=video", 1)[0]
    parsed = SessionDescription.parse(answer)
    assert [m.kind for m in parsed.media] == ["audio", "video"]
