"""One publisher's encoded frames to many subscribers, with no decoding or
encoding on the server (signaling.media.encoded does the aiortc side).

Each subscriber has its own small queue: a subscriber whose sender falls
behind loses frames alone and never holds the others up. Video restarts on a
keyframe: a new subscriber, or one whose queue overflowed, drops frames until
the next keyframe and asks the publisher for one; requests from all
subscribers are merged so that at most one reaches the publisher per
KEYFRAME_REQUEST_INTERVAL.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from signaling.media.encoded import EncodedFrame

log = logging.getLogger(__name__)

# About 0.5 s of video at 15 fps and 200 ms of audio (20 ms Opus frames).
DEPTH = {"audio": 10, "video": 8}
KEYFRAME_REQUEST_INTERVAL = 0.3
# A subscriber that keeps overflowing (a slow link, a starved sender) may not
# make the publisher send keyframes to everyone more often than this.
OVERFLOW_KEYFRAME_INTERVAL = 2.0


class KeyframeRequests:
    """Merges keyframe requests for one publisher's video."""

    def __init__(self, send: Callable[[], Awaitable[bool]], interval: float = KEYFRAME_REQUEST_INTERVAL):
        self._send = send
        self._interval = interval
        self._last = float("-inf")
        self._scheduled: asyncio.TimerHandle | None = None
        self.sent = 0

    def request(self) -> None:
        if self._scheduled is not None:
            return  # one is already on its way
        wait = self._last + self._interval - time.monotonic()
        loop = asyncio.get_running_loop()
        self._scheduled = loop.call_later(max(wait, 0), lambda: asyncio.ensure_future(self._fire()))

    async def _fire(self) -> None:
        self._scheduled = None
        self._last = time.monotonic()
        try:
            if await self._send():
                self.sent += 1
            else:  # nothing received yet: try again shortly
                self.request()
        except Exception:  # the publisher's transport closed under us
            log.debug("keyframe request failed", exc_info=True)

    def cancel(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None


class FanoutSubscriber(MediaStreamTrack):
    def __init__(self, fanout: "PacketFanout"):
        super().__init__()
        self.kind = fanout.kind
        self._fanout = fanout
        self._frames: deque[EncodedFrame] = deque()
        self._depth = DEPTH[self.kind]
        self._ready = asyncio.Event()
        self._ended = False
        self._needs_keyframe = self.kind == "video"
        self._overflow_requests = KeyframeRequests(self._ask_publisher, interval=OVERFLOW_KEYFRAME_INTERVAL)
        self.dropped = 0
        self.delivered = 0

    async def _ask_publisher(self) -> bool:
        self._fanout.request_keyframe()
        return True

    def _push(self, frame: EncodedFrame | None) -> None:
        if frame is None:
            self._ended = True
        elif self._needs_keyframe and not frame.is_keyframe:
            self.dropped += 1
            return
        elif len(self._frames) >= self._depth:
            if self.kind == "video":  # a delta frame cannot follow a gap: restart on a keyframe
                self.dropped += len(self._frames) + 1
                self._frames.clear()
                self._needs_keyframe = not frame.is_keyframe
                if self._needs_keyframe:
                    self._overflow_requests.request()
                    return
            else:
                self.dropped += 1
                self._frames.popleft()
        if frame is not None:
            self._needs_keyframe = False
            self._frames.append(frame)
        self._ready.set()

    async def recv(self) -> EncodedFrame:
        while not self._frames:
            if self._ended or self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        self.delivered += 1
        return self._frames.popleft()

    def request_keyframe(self) -> None:
        """This subscriber's browser lost the picture (PLI/FIR)."""
        self._fanout.request_keyframe()

    def stop(self) -> None:
        super().stop()
        self._overflow_requests.cancel()
        self._fanout.unsubscribe(self)
        self._ready.set()


class PacketFanout:
    """Reads `source` (a track receiving encoded frames) as long as it lives."""

    def __init__(self, source: MediaStreamTrack, *, request_keyframe: Callable[[], Awaitable[bool]] | None = None):
        self.source = source
        self.kind = source.kind
        self.subscribers: set[FanoutSubscriber] = set()
        self._keyframes = KeyframeRequests(request_keyframe) if request_keyframe and self.kind == "video" else None
        self._reader = asyncio.ensure_future(self._read())
        self.frames = 0

    def subscribe(self) -> FanoutSubscriber:
        subscriber = FanoutSubscriber(self)
        self.subscribers.add(subscriber)
        if subscriber._needs_keyframe:
            self.request_keyframe()
        return subscriber

    def unsubscribe(self, subscriber: FanoutSubscriber) -> None:
        self.subscribers.discard(subscriber)

    def request_keyframe(self) -> None:
        if self._keyframes is not None:
            self._keyframes.request()

    @property
    def keyframe_requests_sent(self) -> int:
        return self._keyframes.sent if self._keyframes else 0

    async def _read(self) -> None:
        try:
            while True:
                try:
                    frame = await self.source.recv()
                except MediaStreamError:
                    return
                self.frames += 1
                for subscriber in list(self.subscribers):
                    subscriber._push(frame)
        finally:
            for subscriber in list(self.subscribers):
                subscriber._push(None)
            self.subscribers.clear()

    def close(self) -> None:
        self._reader.cancel()
        if self._keyframes is not None:
            self._keyframes.cancel()


class Restamp:
    """Keeps a subscriber's timestamps continuous when its source changes (the
    floor passes to another audience member, the presenter rejoins): the first frame of a
    new source follows the last one sent by one frame interval."""

    def __init__(self, step_seconds: float, with_pts=None):
        self._step = step_seconds
        self._with_pts = with_pts or (lambda frame, pts: replace(frame, pts=pts))
        self._offset: int | None = None
        self._last: int | None = None
        self._source = None

    def __call__(self, frame: EncodedFrame, source) -> EncodedFrame:
        if source is not self._source or self._offset is None:
            self._source = source
            step = round(self._step / frame.time_base)
            self._offset = (self._last + step - frame.pts) if self._last is not None else 0
        pts = frame.pts + self._offset
        if self._last is not None and pts <= self._last:  # never backwards
            self._offset += self._last + 1 - pts
            pts = self._last + 1
        self._last = pts
        return frame if pts == frame.pts else self._with_pts(frame, pts)
