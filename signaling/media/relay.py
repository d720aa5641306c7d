"""Hands each participant's incoming tracks to whoever receives them, with a
small bounded buffer per receiver.

aiortc's MediaRelay offers a single-frame slot (audio then loses every 20 ms
frame a busy sender misses: audible gaps) or an unbounded queue (a receiver that
falls behind accumulates seconds of delay). Here each receiver keeps the last
`depth` frames and drops the oldest; the source is read as long as it lives, so
frames never pile up in aiortc's own receive queue either.
"""

import asyncio
from collections import deque

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

# About 100 ms of audio (20 ms frames) and 3 video frames (200 ms at 15 fps).
DEPTH = {"audio": 5, "video": 3}


class RelayedTrack(MediaStreamTrack):
    def __init__(self, relay: "BoundedRelay", source: MediaStreamTrack, depth: int):
        super().__init__()
        self.kind = source.kind
        self._relay = relay
        self._source = source
        self._frames: deque = deque(maxlen=depth)  # full: the oldest frame goes
        self._ready = asyncio.Event()
        self._ended = False
        self.dropped = 0

    def _push(self, frame) -> None:
        if frame is None:
            self._ended = True
        else:
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(frame)
        self._ready.set()

    async def recv(self):
        while not self._frames:
            if self._ended or self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()

    def stop(self) -> None:
        super().stop()
        self._relay._unsubscribe(self._source, self)
        self._ready.set()


class BoundedRelay:
    def __init__(self):
        self._receivers: dict[MediaStreamTrack, set[RelayedTrack]] = {}
        self._readers: dict[MediaStreamTrack, asyncio.Task] = {}

    def subscribe(self, source: MediaStreamTrack) -> RelayedTrack:
        track = RelayedTrack(self, source, DEPTH.get(source.kind, 3))
        self._receivers.setdefault(source, set()).add(track)
        if source not in self._readers:
            self._readers[source] = asyncio.ensure_future(self._read(source))
        return track

    def has_receivers(self, source: MediaStreamTrack) -> bool:
        return bool(self._receivers.get(source))

    def _unsubscribe(self, source: MediaStreamTrack, track: RelayedTrack) -> None:
        self._receivers.get(source, set()).discard(track)

    async def _read(self, source: MediaStreamTrack) -> None:
        try:
            while True:
                try:
                    frame = await source.recv()
                except MediaStreamError:
                    frame = None
                for receiver in list(self._receivers.get(source, ())):
                    receiver._push(frame)
                if frame is None:
                    return
        finally:
            self._readers.pop(source, None)
            self._receivers.pop(source, None)

    def close(self) -> None:
        for reader in list(self._readers.values()):
            reader.cancel()
