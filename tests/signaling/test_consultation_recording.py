"""Recording a consultation on the room socket: only the doctor, only with the
patient's consent, both sides told; and a real call between two aiortc
participants recorded by the server, whose file av opens."""

import array
import asyncio
import fractions
import json
import math
import time

import av
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from signaling.media import router as media
from telecare import actions
from telecare.models import AuditEntry, ConsultationRecording
from tests.signaling import call_client
from tests.signaling.sockets import caller, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

DOCTOR_SHADE, STATION_SHADE = 40, 220
DOCTOR_HZ, STATION_HZ = 1000, 440


@pytest.fixture
def live(live_consultation, settings, tmp_path):
    settings.RECORDINGS_DIR = tmp_path / "recordings"
    return live_consultation


@pytest.fixture
def consented(live, station_worker):
    return actions.give_recording_consent(consultation=live, by=station_worker)


async def next_message(socket, kind: str) -> dict:
    """The next message of this type; others on the way are skipped."""
    while True:
        message = json.loads(await socket.receive_from(timeout=10))
        if message["type"] == kind:
            return message


async def send(socket, **message):
    await socket.send_to(text_data=json.dumps({"v": 1, **message}))


async def join(socket) -> dict:
    await send(socket, type="join")
    return await next_message(socket, "joined")


def audit_actions():
    return list(AuditEntry.objects.filter(action__contains="recording").order_by("at", "pk").values_list("action", "actor_username"))


async def test_only_the_doctor_may_record(room_app, consented, station_worker):
    station = await open_socket(room_app, station_worker, consented.room_id)
    await join(station)
    await send(station, type="record", on=True)
    error = await next_message(station, "error")
    assert error["code"] == "doctor_only" and error["message"]
    await send(station, type="record")
    assert (await next_message(station, "error"))["code"] == "bad_field"
    await station.disconnect()
    assert await database_sync_to_async(ConsultationRecording.objects.count)() == 0


async def test_recording_is_refused_without_the_patients_consent(room_app, live, doctor, settings):
    socket = await open_socket(room_app, doctor.user, live.room_id)
    joined = await join(socket)
    assert joined["recording"] == {"on": False, "by": None}
    await send(socket, type="record", on=True)
    error = await next_message(socket, "error")
    assert error["code"] == "no_consent" and "đồng ý" in error["message"]
    assert media.routers[live.room_id].recorder is None
    await socket.disconnect()
    assert await database_sync_to_async(ConsultationRecording.objects.count)() == 0
    assert not (settings.RECORDINGS_DIR / "consultations").exists()
    assert await database_sync_to_async(audit_actions)() == []


async def test_with_consent_the_doctor_starts_and_stops_and_both_sides_are_told(room_app, consented, doctor, station_worker):
    doctor_socket = await open_socket(room_app, doctor.user, consented.room_id)
    doctor_id = (await join(doctor_socket))["you"]["id"]
    station_socket = await open_socket(room_app, station_worker, consented.room_id)
    await join(station_socket)
    await send(doctor_socket, type="record", on=True)
    assert await next_message(doctor_socket, "recording") == {"v": 1, "type": "recording", "on": True, "by": doctor_id}
    assert await next_message(station_socket, "recording") == {"v": 1, "type": "recording", "on": True, "by": doctor_id}
    # Someone who comes in now is told in "joined".
    late = await open_socket(room_app, station_worker, consented.room_id)
    assert (await join(late))["recording"] == {"on": True, "by": doctor_id}
    await late.disconnect()
    recording = await database_sync_to_async(ConsultationRecording.objects.get)()
    assert recording.is_running and recording.started_by_id == doctor.user.pk
    await asyncio.sleep(0.5)
    await send(doctor_socket, type="record", on=False)
    assert (await next_message(doctor_socket, "recording"))["on"] is False
    assert await next_message(station_socket, "recording") == {"v": 1, "type": "recording", "on": False, "by": doctor_id}
    await database_sync_to_async(recording.refresh_from_db)()
    assert not recording.is_running and recording.size_bytes > 0 and recording.duration_seconds >= 0.4
    assert recording.file().is_file() and recording.path.startswith(f"consultations/{consented.pk}/")
    assert await database_sync_to_async(audit_actions)() == [
        ("give_recording_consent", "station_phucthuan"), ("start_recording", "doctor_phoyen"), ("stop_recording", "doctor_phoyen")]
    await doctor_socket.disconnect()
    await station_socket.disconnect()


async def test_a_recording_stops_when_the_doctor_leaves(room_app, consented, doctor, station_worker):
    doctor_socket = await open_socket(room_app, doctor.user, consented.room_id)
    await join(doctor_socket)
    station_socket = await open_socket(room_app, station_worker, consented.room_id)
    await join(station_socket)
    await send(doctor_socket, type="record", on=True)
    await next_message(station_socket, "recording")
    await send(doctor_socket, type="leave")
    assert await next_message(station_socket, "recording") == {"v": 1, "type": "recording", "on": False, "by": None}
    recording = await database_sync_to_async(ConsultationRecording.objects.get)()
    assert not recording.is_running and recording.file().is_file()
    assert (await database_sync_to_async(audit_actions)())[-1] == ("stop_recording", "system")
    await doctor_socket.disconnect()
    await station_socket.disconnect()


async def test_a_recording_is_kept_when_the_server_closes_the_room(room_app, consented, doctor):
    socket = await open_socket(room_app, doctor.user, consented.room_id)
    await join(socket)
    await send(socket, type="record", on=True)
    await next_message(socket, "recording")
    await asyncio.sleep(0.5)
    await media.close_all()  # what shutdown does
    recording = await database_sync_to_async(ConsultationRecording.objects.get)()
    assert not recording.is_running and recording.duration_seconds >= 0.4
    with av.open(str(recording.file())) as container:
        assert {s.type for s in container.streams} == {"video", "audio"} and container.duration / av.time_base >= 0.4
    await socket.disconnect()


class Tone(call_client.SyntheticMicrophone):
    """A microphone playing its own pitch, so each voice can be found in the mix."""

    def __init__(self, hz: int):
        super().__init__()
        self.hz = hz

    async def recv(self):
        rate, per_frame = 48000, 960
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._samples / rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        tone = array.array("h", (int(8000 * math.sin(2 * math.pi * self.hz * (self._samples + i) / rate)) for i in range(per_frame)))
        frame = av.AudioFrame(format="s16", layout="mono", samples=per_frame)
        frame.planes[0].update(tone.tobytes())
        frame.sample_rate, frame.pts, frame.time_base = rate, self._samples, fractions.Fraction(1, rate)
        self._samples += per_frame
        return frame


def mean_luma(frame) -> int:
    luma = bytes(frame.planes[0])
    return sum(luma[::97]) // len(luma[::97])


def amplitude(frame, hz: int) -> float:
    """The amplitude of one pitch in a decoded 20 ms frame (Goertzel), 1.0 for full scale."""
    frame = av.AudioResampler(format="flt", layout="mono", rate=48000).resample(frame)[0]
    samples = memoryview(bytes(frame.planes[0])).cast("f")[:frame.samples]
    coefficient, before, earlier = 2 * math.cos(2 * math.pi * hz / 48000), 0.0, 0.0
    for sample in samples:
        before, earlier = sample + coefficient * before - earlier, before
    power = before * before + earlier * earlier - coefficient * before * earlier
    return 2 * math.sqrt(max(power, 0)) / len(samples)


async def test_a_call_recorded_with_consent_is_a_file_av_opens_with_the_calls_duration(
        room_app, consented, doctor, station_worker, monkeypatch):
    path = f"/ws/rooms/{consented.room_id}/"
    doctor_socket = WebsocketCommunicator(room_app(doctor.user), path)
    station_socket = WebsocketCommunicator(room_app(station_worker), path)
    assert (await doctor_socket.connect())[0] and (await station_socket.connect())[0]
    doctor_call, station_call = caller(doctor_socket, DOCTOR_SHADE), caller(station_socket, STATION_SHADE)
    try:
        await doctor_call.join()
        await station_call.join()
        monkeypatch.setattr(call_client, "SyntheticMicrophone", lambda: Tone(DOCTOR_HZ))
        await doctor_call.call()
        monkeypatch.setattr(call_client, "SyntheticMicrophone", lambda: Tone(STATION_HZ))
        await station_call.call()
        assert await doctor_call.wait_for_frames("video", 10) >= 10
        assert await station_call.wait_for_frames("audio", 20) >= 20
        asked = time.monotonic()
        await doctor_socket.send_to(text_data=json.dumps({"v": 1, "type": "record", "on": True}))
        assert (await doctor_call.message("recording"))["on"] is True
        started = time.monotonic()
        assert (await station_call.message("recording"))["on"] is True
        await asyncio.sleep(3)
        stopped = time.monotonic()
        await doctor_socket.send_to(text_data=json.dumps({"v": 1, "type": "record", "on": False}))
        assert (await doctor_call.message("recording"))["on"] is False
        told = time.monotonic()
        assert (await station_call.message("recording"))["on"] is False
    finally:
        await doctor_call.close()
        await station_call.close()
        await doctor_socket.disconnect()
        await station_socket.disconnect()
    # The server recorded from its "on" to its "off": after we asked and before
    # we were told it started; after we asked it to stop and before we were told.
    recording = await database_sync_to_async(ConsultationRecording.objects.get)()
    call_seconds = recording.duration_seconds
    assert stopped - started - 0.05 <= call_seconds <= told - asked + 0.05, (asked, started, stopped, told, call_seconds)
    assert recording.size_bytes == recording.file().stat().st_size > 10_000
    with av.open(str(recording.file())) as container:
        assert [(s.type, s.codec_context.name) for s in container.streams] == [("video", "vp8"), ("audio", "opus")]
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (320, 240)
        assert abs(container.duration / av.time_base - call_seconds) < 0.5, (container.duration, call_seconds)
        pictures = list(container.decode(video=0))
    with av.open(str(recording.file())) as container:
        sounds = list(container.decode(audio=0))
    # Up to 15 pictures a second of the station's (bright) camera, after the first black one.
    assert 15 * call_seconds / 3 < len(pictures) <= 15 * call_seconds + 2, len(pictures)
    assert all(mean_luma(p) > (DOCTOR_SHADE + STATION_SHADE) / 2 for p in pictures[len(pictures) // 2:])
    assert sum(s.samples for s in sounds) / 48000 == pytest.approx(call_seconds, abs=0.5)
    # Both voices are in the one mixed track (each tone about 0.24 of full scale), and
    # nothing else. Most frames carry both on a quiet machine (over 90% seen); an
    # overloaded one, with all four peers in this process, drops sound on the way.
    both = [amplitude(s, DOCTOR_HZ) > 0.1 and amplitude(s, STATION_HZ) > 0.1 for s in sounds]
    assert sum(both) > len(sounds) / 4, f"{sum(both)} of {len(sounds)} frames have both voices"
    assert sorted(amplitude(s, 700) for s in sounds)[len(sounds) // 2] < 0.03
