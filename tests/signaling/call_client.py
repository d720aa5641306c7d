"""A participant as a Python program: the room protocol over any socket, an
aiortc peer that sends a synthetic camera and microphone, and counters of what
arrives from the other side. Used by the integration tests and bench/calls.py."""

import array
import asyncio
import fractions
import json
import math
import random
import time

import av
from aiortc import RTCConfiguration, RTCIceServer, RTCIceTransportPolicy, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AUDIO_PTIME, MediaStreamError, MediaStreamTrack, VideoStreamTrack

VIDEO_RATE = 90000


class SyntheticCamera(VideoStreamTrack):
    """320x240 frames at 15 fps whose colour says who sent them."""

    def __init__(self, shade: int, fps: int = 15, size=(320, 240), *, grain: bool = False):
        """grain: faint noise over the grey, which costs an encoder what a camera
        does (a flat grey needs a few kbit/s)."""
        super().__init__()
        self.shade, self.fps, self.size = shade, fps, size
        self._start = None
        self._count = 0
        self.grain = grain
        self._grains: list[bytes] = []  # a few luma planes, made on the first frame

    async def recv(self):
        if self._start is None:
            self._start = time.monotonic()
        self._count += 1
        wait = self._start + self._count / self.fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        width, height = self.size
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane, value in zip(frame.planes, (self.shade, 128, 128)):  # grey of that brightness
            plane.update(bytes([value]) * plane.buffer_size)
        if self.grain:
            if not self._grains:
                noise, size = random.Random(self.shade), frame.planes[0].buffer_size
                self._grains = [bytes(min(255, self.shade + b % 16) for b in noise.randbytes(size)) for _ in range(8)]
            frame.planes[0].update(self._grains[self._count % len(self._grains)])
        frame.pts = int(self._count * VIDEO_RATE / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        return frame


class SyntheticMicrophone(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames at 48 kHz."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self._start = None
        self._samples = 0

    async def recv(self):
        rate, per_frame = 48000, int(AUDIO_PTIME * 48000)
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._samples / rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        tone = array.array("h", (int(8000 * math.sin(2 * math.pi * 440 * (self._samples + i) / rate)) for i in range(per_frame)))
        frame = av.AudioFrame(format="s16", layout="mono", samples=per_frame)
        frame.planes[0].update(tone.tobytes())
        frame.sample_rate, frame.pts, frame.time_base = rate, self._samples, fractions.Fraction(1, rate)
        self._samples += per_frame
        return frame


class Received:
    def __init__(self):
        self.frames = {"audio": 0, "video": 0}
        self.first_video_at: float | None = None
        self.video_shades: list[int] = []


class CallClient:
    """send(text) and receive() -> text are the socket's; everything else is here."""

    def __init__(self, send, receive, *, shade: int = 200, video: bool = True, relay_only: bool = False):
        self.send, self.receive = send, receive
        self.shade, self.video = shade, video
        self.relay_only = relay_only
        self.pc: RTCPeerConnection | None = None
        self.received = Received()
        self.joined: dict | None = None
        self.events: list[dict] = []
        self._tasks: list[asyncio.Task] = []

    async def message(self, kind: str, timeout: float = 10) -> dict:
        """The next server message of this type (others are kept in self.events)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind!r} message; got {[e['type'] for e in self.events]}")
            data = json.loads(await asyncio.wait_for(self.receive(), remaining))
            self.events.append(data)
            if data["type"] == kind:
                return data
            if data["type"] == "error" and kind != "error":
                raise RuntimeError(f"server error: {data}")

    async def join(self) -> dict:
        await self.send(json.dumps({"v": 1, "type": "join"}))
        self.joined = await self.message("joined")
        return self.joined

    async def call(self) -> None:
        """Offer audio and video (all candidates in the SDP) and apply the answer."""
        self.pc = RTCPeerConnection(self._configuration())
        self.pc.addTrack(SyntheticMicrophone())
        if self.video:
            self.pc.addTrack(SyntheticCamera(self.shade))
        else:
            self.pc.addTransceiver("video", direction="recvonly")

        @self.pc.on("track")
        def on_track(track):
            self._tasks.append(asyncio.ensure_future(self._count(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send(json.dumps({"v": 1, "type": "offer", "sdp": self.pc.localDescription.sdp}))
        answer = await self.message("answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

    def _configuration(self) -> RTCConfiguration:
        if not self.relay_only:
            return RTCConfiguration(iceServers=[])
        # As a page forced through TURN: the servers from "joined", relay candidates only.
        servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
                   for s in self.joined["ice_servers"]]
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY)

    async def _count(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.received.frames[track.kind] += 1
            if track.kind == "video":
                if self.received.first_video_at is None:
                    self.received.first_video_at = time.monotonic()
                if len(self.received.video_shades) < 50:
                    luma = bytes(frame.planes[0])
                    self.received.video_shades.append(sum(luma[::97]) // len(luma[::97]))

    async def wait_for_frames(self, kind: str, count: int, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while self.received.frames[kind] < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.received.frames[kind]

    async def close(self):
        for task in self._tasks:
            task.cancel()
        if self.pc is not None:
            await self.pc.close()
