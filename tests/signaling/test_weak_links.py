"""A consultation whose station sits behind a weak link (tests/signaling/lossy_relay.py):
the server steps the picture it sends down to audio only by itself, tells
both sides why, and comes back to video when the link recovers; a thin link
gets a smaller picture. A pupil on a weak link drops to sound and stills."""

import asyncio

import pytest

from signaling.media import quality
from signaling.media.broadcast import BroadcastMediaRouter
from signaling.media.router import PairMediaRouter
from tests.signaling.lossy_relay import LossyRelay, Shape
from tests.signaling.router_participant import Participant, packets_sent
from tests.waiting import eventually


@pytest.fixture
def quick_recovery(monkeypatch):
    monkeypatch.setattr(quality, "UP_AFTER", 2.0)


@pytest.fixture
async def call():
    routers, people, relays = [], [], []

    async def start(router_class=PairMediaRouter):
        router = router_class("weak-link-room", ice_servers=[])
        routers.append(router)
        relay = await LossyRelay().start()
        relays.append(relay)
        return router, relay

    def keep(participant):
        people.append(participant)
        return participant

    yield start, keep
    for participant in people:
        await participant.close()
    for router in routers:
        await router.close()
    for relay in relays:
        relay.close()


async def test_loss_steps_the_station_down_to_audio_only_and_back_up(call, quick_recovery, settings):
    settings.VIDEO_MAX_BITRATE = 300_000
    start, keep = call
    router, relay = await start()
    told = []

    async def station_told(level, reason):
        told.append((level.name, reason))

    doctor = keep(await Participant(40).join(router, "doctor", "doctor"))
    router.quality_listeners["station"] = station_told
    station = keep(await Participant(220).join(router, "station", "station", relay))
    await eventually(lambda: station.video_rate() >= 10, "the station sees the doctor at full rate", 15, interval=0.1)

    relay.shape(down=Shape(loss=0.3))
    await eventually(lambda: told and told[-1][0] == "audio", "the station is told it is audio only", 20, seen=lambda: told, interval=0.1)
    assert {reason for _, reason in told} == {"loss"}
    assert [name for name, _ in told] == ["medium", "low", "audio"]
    await asyncio.sleep(1.0)
    sent_before = await packets_sent(router, "station")
    bytes_before = await packets_sent(router, "station", "bytesSent")
    doctor_video_before = len(doctor.video_frames)
    await asyncio.sleep(2.0)
    sent = await packets_sent(router, "station")
    voice = ((await packets_sent(router, "station", "bytesSent"))["audio"] - bytes_before["audio"]) * 8 / 2.0
    # The voice alone (AUDIO_BITRATE, not aiortc's 96 kbit/s) fits a thin link.
    assert voice <= settings.AUDIO_BITRATE * 1.15, voice
    assert station.video_rate(1.5) == 0  # no picture to the station...
    assert len(doctor.video_frames) - doctor_video_before <= 2  # ...nor from it: audio only both ways
    assert sent["video"] == sent_before["video"]
    assert sent["audio"] - sent_before["audio"] >= 25  # the voices go on (50 packets a second on a quiet machine)

    relay.shape(down=Shape())
    # It steps back up (on a busy machine aiortc's own estimate may hold it
    # below "high" for a while; Chromium's climb is the browser test's).
    await eventually(lambda: ("low", "recovered") in told, "the station is told it recovered to the low picture", 40, seen=lambda: told, interval=0.1)
    peer = router.participants["station"]
    await eventually(lambda: peer.link.level.video, "the server sends the station video again", 5, interval=0.1)
    before = await packets_sent(router, "station")
    await asyncio.sleep(2)
    assert (await packets_sent(router, "station"))["video"] - before["video"] >= 10  # video flows again
    await eventually(lambda: len(doctor.video_frames) > doctor_video_before + 20, "the doctor keeps receiving video", 10, interval=0.1)


async def test_a_thin_link_gets_a_smaller_picture(call, settings):
    settings.VIDEO_MAX_BITRATE = 300_000
    start, keep = call
    router, relay = await start()
    told = []

    async def station_told(level, reason):
        told.append((level.name, reason, router.participants["station"].bandwidth.cap))

    # The doctor's picture costs what a camera's does: the server's encoder spends the cap on it.
    keep(await Participant(40, grain=True).join(router, "doctor", "doctor"))
    router.quality_listeners["station"] = station_told
    # A mobile link buffers seconds of data: what does not fit comes late rather than
    # not at all, and the growing delay is what tells the receiver it is too thin.
    relay.shape(down=Shape(rate=150_000, queue=3.0))
    station = keep(await Participant(220).join(router, "station", "station", relay))
    await eventually(lambda: any(name in ("medium", "low") for name, _, _ in told), "a step down to the medium or low picture", 25, seen=lambda: told, interval=0.1)
    # What the server encodes for the station (the doctor's frames are no
    # longer forwarded as they are): a smaller picture (aiortc's receiver,
    # unlike a browser, may not decode again after heavy loss: the browser
    # test watches Chromium's) at a lower bitrate, from the one level encoder.
    def level_encoder():
        feed = router.participants["station"].outgoing["video"].origin
        return feed.source if feed in router.levels.values() else None

    await eventually(lambda: level_encoder() is not None and level_encoder().codec is not None
                     and level_encoder().codec.width < 320, "the encoder narrows the picture", 10, seen=lambda: told, interval=0.1)
    assert min(cap for _, _, cap in told) < 300_000  # and a lower bitrate cap came with it
    assert level_encoder().codec.bit_rate < 300_000
    assert level_encoder().encoded > 0


async def test_a_pupil_on_a_weak_link_drops_to_sound_and_stills(call):
    start, keep = call
    router, relay = await start(BroadcastMediaRouter)
    router.still_seconds = 0.5
    told = []

    async def pupil_told(level, reason):
        told.append(level.name)

    keep(await Participant(230).join(router, "teacher", "teacher"))
    router.quality_listeners["pupil"] = pupil_told
    pupil = keep(await Participant(0, pupil=True).join(router, "pupil", "pupil", relay))
    await eventually(lambda: pupil.video_rate() >= 10, "the pupil sees the teacher at full rate", 15, interval=0.1)
    relay.shape(down=Shape(loss=0.3))
    await eventually(lambda: told == ["audio"], "the pupil is told it is audio only", 15, seen=lambda: told, interval=0.1)
    await eventually(lambda: router.stills is not None and router.stills.jpeg is not None, "a still picture for the audio-only pupil", 10, interval=0.1)
    await asyncio.sleep(1.0)
    assert pupil.video_rate(1.0) == 0
