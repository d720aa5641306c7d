"""Still pictures of a broadcast's presenter for audience members in low-data
mode: while any of them is in that mode, the room decodes the presenter's video
once (not per member) and keeps a small JPEG of the latest picture, renewed
every `interval` seconds. Consumers send it over the room socket (`still`
messages)."""

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import av
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)


class StillPictures:
    """A tap of a BroadcastMediaRouter: router.tap(stills) ... stills.close()."""

    def __init__(self, router, *, interval: float, width: int = 320, quality: int = 8):
        self.router = router
        self.interval = interval
        self.width = width
        self.quality = quality  # mjpeg qscale: 2 best … 31 smallest
        self.jpeg: bytes | None = None
        self.taken_at: float | None = None
        self._decoder = av.CodecContext.create("vp8", "r")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stills")  # one decoder, in order
        self._track = None
        self._task: asyncio.Task | None = None

    def rewire(self) -> None:
        presenter = self.router.presenter
        wanted = presenter.incoming.get("video") if presenter is not None else None
        if wanted is self._track:
            return
        if self._task is not None:
            self._task.cancel()
        self._track = wanted
        self._task = asyncio.ensure_future(self._read(self.router.source("presenter", "video"))) if wanted else None

    async def _read(self, subscription) -> None:
        if subscription is None:
            return
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await subscription.recv()
                due = self.taken_at is None or time.monotonic() - self.taken_at >= self.interval
                jpeg = await loop.run_in_executor(self._executor, self._decode, frame.data, due)
                if jpeg is not None:
                    self.jpeg, self.taken_at = jpeg, time.monotonic()
        except MediaStreamError:
            pass
        finally:
            subscription.stop()

    def _decode(self, data: bytes, due: bool) -> bytes | None:
        try:
            pictures = self._decoder.decode(av.Packet(data))
        except av.FFmpegError:
            return None
        if not (due and pictures):
            return None
        return self._to_jpeg(pictures[-1])

    def _to_jpeg(self, picture) -> bytes:
        height = max(2, round(picture.height * self.width / picture.width / 2) * 2)
        encoder = av.CodecContext.create("mjpeg", "w")
        encoder.width, encoder.height, encoder.pix_fmt = self.width, height, "yuvj420p"
        encoder.time_base = Fraction(1, 1)
        encoder.qscale = self.quality
        small = picture.reformat(width=self.width, height=height, format="yuvj420p")
        small.pts = 0
        return b"".join(bytes(p) for p in encoder.encode(small))

    def close(self) -> None:
        self.router.untap(self)
        if self._task is not None:
            self._task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
