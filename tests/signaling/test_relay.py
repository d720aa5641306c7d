import asyncio
from fractions import Fraction

import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from signaling.media.forward import ForwardTrack
from signaling.media.relay import DEPTH, BoundedRelay


class Source(MediaStreamTrack):
    kind = "audio"

    def __init__(self):
        super().__init__()
        self.frames = asyncio.Queue()

    async def recv(self):
        frame = await self.frames.get()
        if frame is None:
            raise MediaStreamError
        return frame


async def test_a_slow_receiver_keeps_only_the_newest_frames():
    source, relay = Source(), BoundedRelay()
    receiver = relay.subscribe(source)
    for n in range(20):
        source.frames.put_nowait(n)
    await asyncio.sleep(0.01)
    got = [await receiver.recv() for _ in range(DEPTH["audio"])]
    assert got == list(range(20 - DEPTH["audio"], 20)) and receiver.dropped == 20 - DEPTH["audio"]
    source.frames.put_nowait(None)  # the participant left
    with pytest.raises(MediaStreamError):
        await receiver.recv()
    relay.close()


async def test_each_receiver_gets_every_frame_it_keeps_up_with():
    source, relay = Source(), BoundedRelay()
    first, second = relay.subscribe(source), relay.subscribe(source)
    for n in range(3):
        source.frames.put_nowait(n)
        assert await first.recv() == n and await second.recv() == n
    second.stop()
    source.frames.put_nowait(3)
    assert await first.recv() == 3
    relay.close()


async def test_a_forward_track_switches_sources_and_pauses():
    relay = BoundedRelay()
    old, new = Source(), Source()
    forward = ForwardTrack("audio")
    forward.use(relay.subscribe(old), origin=old)
    old.frames.put_nowait("from-old")
    assert await asyncio.wait_for(forward.recv(), 1) == "from-old"
    waiting = asyncio.ensure_future(forward.recv())
    await asyncio.sleep(0.01)
    forward.use(relay.subscribe(new), origin=new)  # rewired while waiting on a quiet source
    new.frames.put_nowait("from-new")
    assert await asyncio.wait_for(waiting, 1) == "from-new"
    forward.pause(True)
    new.frames.put_nowait("while-paused")
    paused = asyncio.ensure_future(forward.recv())
    await asyncio.sleep(0.05)
    assert not paused.done()
    forward.pause(False)
    new.frames.put_nowait("after")
    assert await asyncio.wait_for(paused, 1) in ("while-paused", "after")
    forward.stop()
    relay.close()


def picture(pts: int) -> VideoFrame:
    frame = VideoFrame(320, 240, "yuv420p")
    frame.pts, frame.time_base = pts, Fraction(1, 90000)
    return frame


async def test_decoded_frames_keep_going_forward_when_the_source_changes():
    """A participant's new peer connection starts its timestamps anywhere: the
    encoder of whoever receives them must never see them go back."""
    relay = BoundedRelay()
    old, new = Source(), Source()
    forward = ForwardTrack("video")
    forward.use(relay.subscribe(old), origin=old)
    for pts in (900_000, 903_000):
        old.frames.put_nowait(picture(pts))
        assert (await asyncio.wait_for(forward.recv(), 1)).pts == pts
    forward.use(relay.subscribe(new), origin=new)
    shared = picture(3_000)  # what every subscriber of the new source gets
    shared.planes[0].update(bytes(range(256)) * 300)
    new.frames.put_nowait(shared)
    new.frames.put_nowait(picture(6_000))
    first, second = [await asyncio.wait_for(forward.recv(), 1) for _ in range(2)]
    assert (first.pts, second.pts) == (906_000, 909_000)
    assert shared.pts == 3_000 and (first.width, first.height) == (320, 240)
    assert bytes(first.planes[0]) == bytes(shared.planes[0])
    forward.stop()
    relay.close()
