"""Lesson participants as Python programs, talking to a BroadcastMediaRouter
directly (offer in, answer out) or through the room socket.

A pupil offers audio (sendrecv), video (recvonly) and a second audio
(recvonly), as docs/signaling.md says; the teacher offers audio and video.
Counters say what arrived on which transceiver. With `encoded=True` a pupil
counts frames without decoding them (bench/fanout.py: the harness's own CPU
must not be what limits the figure)."""

import asyncio
import time

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from signaling.media import encoded
from tests.signaling.call_client import SyntheticCamera, SyntheticMicrophone


class LessonClient:
    def __init__(self, side: str, *, shade: int = 200, encoded_only: bool = False, microphone: bool = True):
        self.side = side
        self.shade = shade
        self.encoded_only = encoded_only
        self.microphone = microphone
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.frames = {"audio": 0, "video": 0, "audio2": 0}
        self.arrivals: dict[str, list[float]] = {"audio": [], "video": [], "audio2": []}
        self.first_video_at: float | None = None
        self.video_shades: list[int] = []
        self.loud = {"audio": 0, "audio2": 0}  # frames carrying sound, not silence
        self.keep_arrivals = False
        self._tasks: list[asyncio.Task] = []

    async def offer(self) -> str:
        if self.side == "teacher":
            self.pc.addTrack(SyntheticMicrophone())
            self.pc.addTrack(SyntheticCamera(self.shade))
        else:
            if self.microphone:
                self.pc.addTrack(SyntheticMicrophone())
            else:
                self.pc.addTransceiver("audio", direction="recvonly")
            self.pc.addTransceiver("video", direction="recvonly")
            self.pc.addTransceiver("audio", direction="recvonly")
        slots = {}
        for transceiver in self.pc.getTransceivers():
            slots[transceiver] = transceiver.kind if transceiver.kind not in slots.values() else transceiver.kind + "2"

        @self.pc.on("track")
        def on_track(track):
            transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
            if self.encoded_only:
                encoded.receive_encoded(track)
            self._tasks.append(asyncio.ensure_future(self._count(slots[transceiver], track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    async def _count(self, slot: str, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            self.frames[slot] += 1
            if self.keep_arrivals:
                self.arrivals[slot].append(now)
            if slot == "video":
                if self.first_video_at is None:
                    self.first_video_at = now
                if not self.encoded_only and len(self.video_shades) < 50:
                    luma = bytes(frame.planes[0])
                    self.video_shades.append(sum(luma[::97]) // len(luma[::97]))
            elif not self.encoded_only:
                samples = memoryview(bytes(frame.planes[0])).cast("h")
                if max(abs(s) for s in samples[::16]) > 1000:
                    self.loud[slot] += 1

    async def wait_for(self, slot: str, count: int, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while self.frames[slot] < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.frames[slot]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.pc.close()
