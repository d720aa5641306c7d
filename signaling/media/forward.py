"""A track the server sends to a participant, fed by whichever other
participant's track the router connects to it, or by nothing (then it sends
nothing) while nobody is there or the participant is in audio-only mode.

Decoded frames are re-encoded by the sender; encoded frames (broadcast rooms) are
only packetized. Either way timestamps stay continuous across a change of source:
an encoder refuses timestamps that go back (libvpx fails, and aiortc's sender for
that track stops for good)."""

import asyncio
from dataclasses import replace

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from signaling.media.encoded import EncodedFrame
from signaling.media.fanout import Restamp

# A change of source leaves this gap in the timestamps (one frame, roughly).
SOURCE_CHANGE_GAP = {"audio": 0.02, "video": 1 / 30}


def with_pts(frame, pts: int):
    """The frame with another pts: an encoded frame is ours to replace; a decoded
    one is copied, since the relay hands the same frame to every subscriber."""
    if isinstance(frame, EncodedFrame):
        return replace(frame, pts=pts)
    if isinstance(frame, VideoFrame):
        copy = VideoFrame(frame.width, frame.height, frame.format.name)
    else:
        copy = AudioFrame(format=frame.format.name, layout=frame.layout.name, samples=frame.samples)
        copy.sample_rate = frame.sample_rate
    for plane, target in zip(frame.planes, copy.planes):
        source, into = memoryview(plane), memoryview(target)
        if isinstance(frame, VideoFrame) and plane.line_size != target.line_size:  # rows padded differently
            width = min(plane.line_size, target.line_size)
            for row in range(target.height):
                into[row * target.line_size:row * target.line_size + width] = source[row * plane.line_size:row * plane.line_size + width]
        else:  # the same rows, or audio samples (a decoder's buffer may be longer than its samples)
            into[:] = source[:len(into)]
    copy.pts, copy.time_base = pts, frame.time_base
    return copy


class ForwardTrack(MediaStreamTrack):
    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self._source: MediaStreamTrack | None = None
        self._paused = False
        self._changed = asyncio.Event()
        self._pending: asyncio.Future | None = None  # a recv() on the current source
        self.origin: MediaStreamTrack | None = None
        self.frames = 0
        self._restamp = Restamp(SOURCE_CHANGE_GAP[kind], with_pts=with_pts)
        self._shape = (0, 0, 0.0)  # decoded video: at most this width, height and frame rate (0: as it comes)
        self._last_sent: float | None = None

    @property
    def source(self) -> MediaStreamTrack | None:
        return self._source

    def use(self, source: MediaStreamTrack | None, *, origin: MediaStreamTrack | None = None) -> None:
        """Send what `source` gives; `origin` names the participant's track it
        relays, so the router can tell whether the wiring changed."""
        if source is self._source:
            return
        self._drop_pending()
        self.origin = origin or source
        previous, self._source = self._source, source
        if previous is not None:
            previous.stop()
        self._changed.set()

    def shape(self, width: int = 0, height: int = 0, fps: float = 0) -> None:
        """Send decoded video at most this big and this often (a weak link)."""
        self._shape = (width, height, fps)

    def _shaped(self, frame: VideoFrame) -> VideoFrame | None:
        width, height, fps = self._shape
        if fps and frame.pts is not None:
            moment = float(frame.pts * frame.time_base)
            if self._last_sent is not None and 0 <= moment - self._last_sent < 1 / fps - 0.01:
                return None  # over this level's frame rate: the frame is skipped
            self._last_sent = moment
        if width and frame.width > width:
            frame = frame.reformat(width=width, height=height)
        return frame

    def pause(self, paused: bool) -> None:
        self._paused = paused
        self._changed.set()

    def _drop_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    async def recv(self):
        while self.readyState == "live":
            source = self._source
            self._changed.clear()
            if source is None or self._paused:
                await self._changed.wait()
                continue
            if self._pending is None:
                self._pending = asyncio.ensure_future(source.recv())
            # Wait for a frame, or for a change (rewired, paused, stopped):
            # a source that went quiet must not hold this track forever.
            change = asyncio.ensure_future(self._changed.wait())
            await asyncio.wait({self._pending, change}, return_when=asyncio.FIRST_COMPLETED)
            change.cancel()
            if self._pending is None or not self._pending.done() or source is not self._source:
                continue
            pending, self._pending = self._pending, None
            try:
                frame = pending.result()
            except MediaStreamError:
                if self._source is source:  # that participant left; wait for the next
                    self._source = self.origin = None
                continue
            if self._paused:
                continue
            if isinstance(frame, (EncodedFrame, VideoFrame, AudioFrame)) and frame.pts is not None:
                frame = self._restamp(frame, source)
            if isinstance(frame, VideoFrame) and self._shape != (0, 0, 0.0):
                frame = self._shaped(frame)
                if frame is None:
                    continue
            self.frames += 1
            return frame
        raise MediaStreamError

    def stop(self) -> None:
        self._drop_pending()
        if self._source is not None:
            self._source.stop()
            self._source = self.origin = None
        super().stop()
        self._changed.set()
