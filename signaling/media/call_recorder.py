"""Records a call to a WebM file with aiortc's MediaRecorder: the picture of
one side (PICTURE_SIDE), re-encoded to VP8 at 320x240 and at most 15 frames a
second, and one Opus track mixing both sides' voices. In a consultation that
is the station's picture (the patient) and the doctor's and station's voices.

One mixed audio track rather than one per voice: players play a file's first
audio track only, so a second track would leave one side silent. The other
side's picture is left out: a second video track plays nowhere either, and
composing both pictures would cost the server a scale and a paste per frame for
little use in the record.

The tracks given to MediaRecorder run on the server's clock since the
recording started (the participants' own timestamps start at random values
and stop while someone reconnects), so the file keeps the call's real
duration; while the pictured side sends no picture, its last one stays.
"""

import asyncio
import logging
import time
from array import array
from fractions import Fraction
from pathlib import Path

import av
from aiortc.contrib.media import MediaRecorder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from signaling.media.recording import RecordingInfo

log = logging.getLogger(__name__)

RATE = 48000
TICK = 0.02  # one Opus frame
SAMPLES = int(RATE * TICK)
MAX_BUFFERED = SAMPLES * 10  # 200 ms: a voice that runs ahead loses its oldest sound
FPS = 15
DRAIN_SECONDS = 2  # at most this long to write the sound that is due at the stop
SIZE = (320, 240)  # the size room pages ask cameras for (signaling.pages.room_config)

# The sides as telecare names them (on the wire too): whose picture is
# recorded, whose voices, and who may stop it.
PICTURE_SIDE, VOICE_SIDES, CONTROLLING_SIDE = "station", ("doctor", "station"), "doctor"


class _Clock:
    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.started, self.wall = time.monotonic(), time.time()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


class _Voice:
    """One side's sound: read from its relayed track, 48 kHz mono, buffered for the mix."""

    def __init__(self, origin: MediaStreamTrack, subscription: MediaStreamTrack):
        self.origin = origin
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self.samples = array("h")
        self.task = asyncio.ensure_future(self._read(subscription))

    async def _read(self, subscription: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await subscription.recv()
                for resampled in self.resampler.resample(frame):
                    self.samples.frombytes(bytes(resampled.planes[0])[: resampled.samples * 2])
                if len(self.samples) > MAX_BUFFERED:
                    del self.samples[: len(self.samples) - MAX_BUFFERED]
        except MediaStreamError:
            pass  # that participant left
        finally:
            subscription.stop()

    def take(self) -> array:
        chunk = self.samples[:SAMPLES]
        del self.samples[:SAMPLES]
        return chunk

    def stop(self) -> None:
        self.task.cancel()


def _mix(chunks: list[array]) -> bytes:
    chunks = [c for c in chunks if c]
    if not chunks:
        return bytes(SAMPLES * 2)
    mixed = chunks[0] if len(chunks) == 1 else array(
        "h", (max(-32768, min(32767, sum(values))) for values in zip(*chunks)))
    if len(mixed) < SAMPLES:
        mixed.extend([0] * (SAMPLES - len(mixed)))
    return mixed.tobytes()


class VoiceMix(MediaStreamTrack):
    """Both sides' voices mixed, one 20 ms frame per tick of the recording's clock
    (silence while nobody speaks or nobody is there)."""

    kind = "audio"

    def __init__(self, clock: _Clock):
        super().__init__()
        self.clock = clock
        self.voices: dict[str, _Voice] = {}
        self._ticks = 0
        self._end: float | None = None
        self.drained = asyncio.Event()  # every frame up to the end was handed over

    def listen(self, side: str, origin: MediaStreamTrack | None, subscribe) -> None:
        """Hear `origin` (a participant's incoming audio) for this side, through `subscribe(origin)`."""
        voice = self.voices.get(side)
        if voice is not None and voice.origin is origin:
            return
        if voice is not None:
            voice.stop()
            del self.voices[side]
        if origin is not None:
            self.voices[side] = _Voice(origin, subscribe(origin))

    def end_at(self, seconds: float) -> None:
        """Give the frames up to this moment of the recording's clock at once
        (a busy server may be behind), then end."""
        self._end = seconds

    async def recv(self) -> av.AudioFrame:
        if self._end is not None and self._ticks * TICK >= self._end:
            self.drained.set()
            raise MediaStreamError
        if self.readyState != "live":
            raise MediaStreamError
        wait = self.clock.started + self._ticks * TICK - time.monotonic()
        if wait > 0 and self._end is None:
            await asyncio.sleep(wait)
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(_mix([voice.take() for voice in self.voices.values()]))
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._ticks * SAMPLES, Fraction(1, RATE)
        self._ticks += 1
        return frame

    def stop(self) -> None:
        for voice in self.voices.values():
            voice.stop()
        self.voices.clear()
        super().stop()


def _blank() -> av.VideoFrame:
    frame = av.VideoFrame(*SIZE, "yuv420p")
    for plane, value in zip(frame.planes, (16, 128, 128)):  # black
        plane.update(bytes([value]) * plane.buffer_size)
    return frame


def _copy(frame: av.VideoFrame) -> av.VideoFrame:
    """A frame of the recording's own: the relay hands the same frame to the
    other participant's sender, which reads its timestamps."""
    if (frame.width, frame.height) != SIZE or frame.format.name != "yuv420p":
        return frame.reformat(width=SIZE[0], height=SIZE[1], format="yuv420p")  # a new frame
    copy = av.VideoFrame(*SIZE, "yuv420p")
    for source, target in zip(frame.planes, copy.planes):
        if source.line_size == target.line_size:
            target.update(bytes(source))
            continue
        rows, into = memoryview(source), memoryview(target)  # padded differently: row by row
        for row in range(source.height):
            into[row * target.line_size:row * target.line_size + source.width] = (
                rows[row * source.line_size:row * source.line_size + source.width])
    return copy


class RecordedPicture(MediaStreamTrack):
    """The pictured side's (PICTURE_SIDE) picture on the recording's clock, at
    most FPS frames a second."""

    kind = "video"

    def __init__(self, clock: _Clock):
        super().__init__()
        self.clock = clock
        self.origin: MediaStreamTrack | None = None
        self._source: MediaStreamTrack | None = None
        self._changed = asyncio.Event()
        self._last_slot = -1
        self.frames = 0

    def use(self, origin: MediaStreamTrack | None, subscribe) -> None:
        if origin is self.origin:
            return
        if self._source is not None:
            self._source.stop()
        self.origin = origin
        self._source = subscribe(origin) if origin is not None else None
        self._changed.set()

    def _stamped(self, frame: av.VideoFrame, slot: int) -> av.VideoFrame:
        frame.pts, frame.time_base = slot, Fraction(1, FPS)
        self._last_slot = slot
        self.frames += 1
        return frame

    async def recv(self) -> av.VideoFrame:
        if self._last_slot < 0:
            # A black frame at once: MediaRecorder takes the picture's size from
            # the first frame, and must have it before any sound is written.
            return self._stamped(_blank(), 0)
        while self.readyState == "live":
            source = self._source
            self._changed.clear()
            if source is None:
                await self._changed.wait()
                continue
            pending = asyncio.ensure_future(source.recv())
            change = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({pending, change}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                change.cancel()
                if not pending.done():
                    pending.cancel()  # a relayed track keeps its frames for the next recv()
            if pending.cancelled():
                continue
            try:
                frame = pending.result()
            except MediaStreamError:
                if self._source is source:  # the pictured side left; its next connection comes through use()
                    self._source = self.origin = None
                continue
            slot = int(self.clock.elapsed() * FPS)
            if slot > self._last_slot:  # else over FPS: the frame is skipped
                return self._stamped(_copy(frame), slot)
        raise MediaStreamError

    def stop(self) -> None:
        if self._source is not None:
            self._source.stop()
            self._source = None
        super().stop()
        self._changed.set()


class CallRecorder:
    """A call router's recorder (router.recorder): the router calls
    rewire() whenever its wiring changes, so the recording follows a
    participant who reconnects. start(), then stop() once."""

    def __init__(self, router, path: Path, *, on_finished=None):
        self.router = router
        self.on_finished = on_finished  # async (RecordingInfo, by) once the file is complete
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = _Clock()
        self.picture = RecordedPicture(self.clock)
        self.voices = VoiceMix(self.clock)
        self.recorder = MediaRecorder(str(self.path), format="webm")
        self.recorder.addTrack(self.picture)  # first: its first frame sets the picture's size
        self.recorder.addTrack(self.voices)
        self.started_by: str | None = None  # the participant id of whoever started it
        self._stopped = False

    def _latest(self, side: str):
        peers = [p for p in self.router.participants.values() if p.side == side]
        return peers[-1] if peers else None  # dicts keep join order: the latest

    def rewire(self) -> None:
        if self._stopped:
            return
        subscribe = self.router.relay.subscribe
        pictured = self._latest(PICTURE_SIDE)
        self.picture.use(pictured.incoming.get("video") if pictured else None, subscribe)
        for side in VOICE_SIDES:
            peer = self._latest(side)
            self.voices.listen(side, peer.incoming.get("audio") if peer else None, subscribe)

    @property
    def orphaned(self) -> bool:
        """Nobody who may stop the recording is left in the room."""
        return not any(p.side == CONTROLLING_SIDE for p in self.router.participants.values())

    async def start(self) -> None:
        self.clock.reset()
        self.rewire()
        await self.recorder.start()

    async def stop(self, by=None) -> RecordingInfo | None:
        """Finish the file (nothing written is lost) and hand it to on_finished
        with `by`, who stopped it (None: the call ended or CONTROLLING_SIDE left)."""
        if self._stopped:
            return None
        self._stopped = True
        duration, ended = self.clock.elapsed(), time.time()
        self.voices.end_at(duration)
        try:
            await asyncio.wait_for(self.voices.drained.wait(), DRAIN_SECONDS)
        except TimeoutError:
            log.warning("%s: the sound did not catch up with the end", self.path)
        await self.recorder.stop()  # flushes both encoders and closes the file
        self.picture.stop()
        self.voices.stop()
        info = RecordingInfo(
            path=self.path, audio_path=None, started_at=self.clock.wall, ended_at=ended,
            duration_seconds=round(duration, 3), size_bytes=self.path.stat().st_size,
        )
        log.info("recorded %s: %.1f s, %d pictures", self.path, duration, self.picture.frames)
        if self.on_finished is not None:
            await self.on_finished(info, by)
        return info
