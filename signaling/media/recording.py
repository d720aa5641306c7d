"""Records a room to a WebM file: one picture as it arrives (the encoded VP8
frames are written unchanged, never decoded) and one audio track mixing the
voices (decoded, mixed and encoded once to Opus).

A broadcast (classrooms' lessons) records the presenter's picture, and their
voice mixed with the voice of the audience member who has the floor; on stop
it also writes the audio alone to a small Ogg file, for an audience on a weak
link. A call (signaling.media.call_recorder) records one side's picture and
both sides' voices.

Timestamps come from the server's clock since the recording started, so the
file keeps the broadcast's real duration even when the presenter rejoins or the
floor changes hands.
"""

import asyncio
import logging
import time
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)

RATE = 48000
TICK = 0.02  # one Opus frame
SAMPLES = int(RATE * TICK)
MAX_BUFFERED = SAMPLES * 10  # 200 ms: a source that runs ahead loses its oldest sound
MS = Fraction(1, 1000)


@dataclass(frozen=True)
class RecordingInfo:
    path: Path
    audio_path: Path | None
    started_at: float  # time.time()
    ended_at: float
    duration_seconds: float
    size_bytes: int


class _Voice:
    """One source of sound: decoded to 48 kHz mono and buffered for the mixer."""

    def __init__(self):
        self.decoder = av.CodecContext.create("opus", "r")
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self.samples = array("h")
        self.track = None
        self.task: asyncio.Task | None = None

    def add(self, frame) -> None:
        packet = av.Packet(frame.data)
        try:
            for decoded in self.decoder.decode(packet):
                for resampled in self.resampler.resample(decoded):
                    self.samples.frombytes(bytes(resampled.planes[0])[: resampled.samples * 2])
        except av.FFmpegError:
            return  # a damaged frame: a moment of silence
        if len(self.samples) > MAX_BUFFERED:
            del self.samples[: len(self.samples) - MAX_BUFFERED]

    def take(self) -> array:
        chunk = self.samples[:SAMPLES]
        del self.samples[:SAMPLES]
        return chunk


def _mix(chunks: list[array]) -> bytes:
    chunks = [c for c in chunks if c]
    if not chunks:
        return bytes(SAMPLES * 2)
    if len(chunks) == 1:
        mixed = chunks[0]
    else:
        mixed = array("h", (max(-32768, min(32767, sum(values))) for values in zip(*chunks)))
    if len(mixed) < SAMPLES:
        mixed.extend([0] * (SAMPLES - len(mixed)))
    return mixed.tobytes()


class EncodedRecorder:
    """Writes one picture as its encoded VP8 frames arrive (never decoded) and
    one Opus track mixing named voices (decoded, mixed and encoded once) to a
    WebM file, on the server's clock since start. Subclasses say which of the
    router's tracks are the picture and the voices (`_wanted`), and how to
    subscribe to them."""

    VOICES: tuple[str, ...] = ()

    def __init__(self, router, path: Path):
        self.router = router
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(self.path), "w", format="webm")
        # WebM lists its streams in the header, written before the first
        # frame: the picture's stream is declared at the rooms' usual size
        # (VP8 frames carry their own size; players follow it).
        self.video = self.container.add_stream("libvpx", rate=15)
        self.video.width, self.video.height, self.video.pix_fmt = 320, 240, "yuv420p"
        self.audio = self.container.add_stream("libopus", rate=RATE)
        self.audio.layout = "mono"
        self.voices = {name: _Voice() for name in self.VOICES}
        self.video_track = None
        self.video_task: asyncio.Task | None = None
        self.mixer: asyncio.Task | None = None
        self._clock0 = 0.0
        self._wall0 = 0.0
        self._ticks = 0
        self._last_video_ms = -1
        self.video_frames = 0

    def _wanted(self) -> tuple[object, dict[str, object]]:
        """The picture's origin track and each voice's (None: nobody)."""
        raise NotImplementedError

    def _subscribe(self, name: str, origin):
        """Encoded frames of `origin`, the picture ("picture") or the voice `name`."""
        raise NotImplementedError

    def _start_clock(self) -> None:
        self._clock0, self._wall0 = time.monotonic(), time.time()
        self.mixer = asyncio.ensure_future(self._mix())

    def rewire(self) -> None:
        """Follow the router: whoever is the picture and the voices now."""
        picture, voices = self._wanted()
        for name, voice in self.voices.items():
            wanted = voices.get(name)
            if wanted is not voice.track:
                self._stop_reading(voice)
                voice.track = wanted
                if wanted is not None:
                    voice.task = asyncio.ensure_future(self._read_voice(voice, self._subscribe(name, wanted)))
        if picture is not self.video_track:
            if self.video_task is not None:
                self.video_task.cancel()
            self.video_track = picture
            self.video_task = asyncio.ensure_future(self._read_video(self._subscribe("picture", picture))) if picture else None

    @staticmethod
    def _stop_reading(voice: _Voice) -> None:
        if voice.task is not None:
            voice.task.cancel()
            voice.task = None
        voice.track = None

    def _now_ms(self) -> int:
        return int((time.monotonic() - self._clock0) * 1000)

    async def _read_voice(self, voice: _Voice, subscription) -> None:
        if subscription is None:
            return
        try:
            while True:
                voice.add(await subscription.recv())
        except MediaStreamError:
            pass
        finally:
            subscription.stop()

    async def _read_video(self, subscription) -> None:
        if subscription is None:
            return
        try:
            while True:
                frame = await subscription.recv()
                pts = max(self._now_ms(), self._last_video_ms + 1)
                self._last_video_ms = pts
                packet = av.Packet(frame.data)
                packet.pts = packet.dts = pts
                packet.time_base = MS
                packet.is_keyframe = frame.is_keyframe
                packet.stream = self.video
                self.container.mux(packet)
                self.video_frames += 1
        except MediaStreamError:
            pass
        finally:
            subscription.stop()

    async def _mix(self) -> None:
        """Every 20 ms of the server's clock, one mixed Opus frame."""
        while True:
            self._ticks += 1
            await asyncio.sleep(max(0.0, self._clock0 + self._ticks * TICK - time.monotonic()))
            self._encode(_mix([voice.take() for voice in self.voices.values()]), (self._ticks - 1) * SAMPLES)

    def _encode(self, pcm: bytes, pts: int) -> None:
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(pcm)
        frame.sample_rate, frame.pts, frame.time_base = RATE, pts, Fraction(1, RATE)
        for packet in self.audio.encode(frame):
            self.container.mux(packet)

    async def _finish(self) -> tuple[float, float]:
        """Stops reading and closes the file: (when it ended, its duration in seconds)."""
        tasks = [t for t in (self.mixer, self.video_task, *(v.task for v in self.voices.values())) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        ended, duration = time.time(), round(time.monotonic() - self._clock0, 3)
        self._encode(bytes(SAMPLES * 2), self._ticks * SAMPLES)  # at least one frame: the file exists
        for packet in self.audio.encode(None):
            self.container.mux(packet)
        self.container.close()
        return ended, duration


class BroadcastRecorder(EncodedRecorder):
    """A tap of a BroadcastMediaRouter (router.tap(recorder)): the presenter's
    picture, their voice and the floor's; start() then stop()."""

    VOICES = ("presenter", "floor")

    def __init__(self, router, path: Path, *, on_finished=None):
        super().__init__(router, path)
        self.on_finished = on_finished  # async, given the RecordingInfo once the file is complete

    def start(self) -> None:
        self._start_clock()
        self.router.tap(self)

    def _origin(self, who: str, kind: str):
        peer = self.router.presenter if who == "presenter" else self.router.participants.get(self.router.floor or "")
        return peer.incoming.get(kind) if peer is not None else None

    def _wanted(self):
        return self._origin("presenter", "video"), {who: self._origin(who, "audio") for who in self.VOICES}

    def _subscribe(self, name: str, origin):
        return self.router.source("presenter", "video") if name == "picture" else self.router.source(name, "audio")

    async def stop(self) -> RecordingInfo:
        self.router.untap(self)
        ended, duration = await self._finish()
        audio_path = self.path.with_suffix(".ogg")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, extract_audio, self.path, audio_path)
        except (av.FFmpegError, OSError):
            log.exception("could not write the audio-only file of %s", self.path)
            audio_path = None
        info = RecordingInfo(
            path=self.path, audio_path=audio_path, started_at=self._wall0, ended_at=ended,
            duration_seconds=duration, size_bytes=self.path.stat().st_size,
        )
        if self.on_finished is not None:
            await self.on_finished(info)
        return info


def extract_audio(source: Path, target: Path) -> None:
    """The recording's sound alone, copied (not re-encoded) into Ogg."""
    with av.open(str(source)) as recording, av.open(str(target), "w", format="ogg") as audio_only:
        audio_in = recording.streams.audio[0]
        audio_out = audio_only.add_stream_from_template(audio_in)
        for packet in recording.demux(audio_in):
            if packet.dts is None:
                continue
            packet.stream = audio_out
            audio_only.mux(packet)
