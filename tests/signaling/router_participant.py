"""An aiortc participant that talks to a media router directly (no socket),
optionally through a LossyRelay: used by the weak-link and forwarding tests."""

import asyncio
import time

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from signaling.media.encoded import request_keyframe
from tests.signaling.call_client import SyntheticCamera, SyntheticMicrophone
from tests.signaling.lossy_relay import LossyRelay, without_candidates


class Participant:
    def __init__(self, shade: int, *, pupil: bool = False, grain: bool = False):
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pupil = pupil
        self.shade, self.grain = shade, grain
        self.video_frames: list[tuple[float, int]] = []  # (arrival, width)
        self.audio_frames = 0
        self._tasks = []

    async def join(self, router, participant_id: str, side: str, relay: LossyRelay | None = None):
        self.pc.addTrack(SyntheticMicrophone())
        if self.pupil:
            self.pc.addTransceiver("video", direction="recvonly")
            self.pc.addTransceiver("audio", direction="recvonly")
        else:
            self.pc.addTrack(SyntheticCamera(self.shade, grain=self.grain))

        @self.pc.on("track")
        def on_track(track):
            self._tasks.append(asyncio.ensure_future(self._count(track)))
            if track.kind == "video":
                receiver = next(t.receiver for t in self.pc.getTransceivers() if t.receiver.track is track)
                self._tasks.append(asyncio.ensure_future(self._ask_for_keyframes(receiver)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = self.pc.localDescription.sdp
        answer = await router.offer(participant_id, side, without_candidates(offer) if relay else offer)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=relay.through(answer) if relay else answer, type="answer"))
        return self

    async def _ask_for_keyframes(self, receiver):
        """As a browser does when it cannot decode (aiortc's receiver waits until
        its jitter buffer overflows): a keyframe request after a second without
        a picture, at most one a second."""
        while True:
            await asyncio.sleep(1.0)
            if not self.video_frames or time.monotonic() - self.video_frames[-1][0] > 1.0:
                await request_keyframe(receiver)

    async def _count(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                self.video_frames.append((time.monotonic(), frame.width))
            else:
                self.audio_frames += 1

    def video_rate(self, seconds: float = 2.0) -> float:
        since = time.monotonic() - seconds
        return sum(1 for at, _ in self.video_frames if at >= since) / seconds

    async def close(self):
        for task in self._tasks:
            task.cancel()
        await self.pc.close()


async def packets_sent(router, participant_id, what="packetsSent") -> dict[str, int]:
    """What the server sent this participant, per kind (its RTCP-free view)."""
    counts = {}
    for kind in ("audio", "video"):
        stats = await router.participants[participant_id].senders[kind].getStats()
        counts[kind] = next(getattr(s, what) for s in stats.values() if s.type == "outbound-rtp")
    return counts
