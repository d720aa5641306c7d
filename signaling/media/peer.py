"""One participant's connection to the server: an aiortc RTCPeerConnection that
receives their audio and video and sends them the others' through ForwardTracks.

The browser always offers; the server answers with every candidate in the SDP
(aiortc gathers before answering) and takes the browser's trickled candidates.
"""

import logging

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from signaling.media.forward import ForwardTrack

log = logging.getLogger(__name__)
KINDS = ("audio", "video")


def rtc_configuration(ice_servers: list[dict]) -> RTCConfiguration:
    # An explicit list, even empty: aiortc's default is a public STUN server.
    return RTCConfiguration(iceServers=[
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential")) for s in ice_servers
    ])


class ParticipantPeer:
    def __init__(self, participant_id: str, side: str, *, ice_servers: list[dict], on_track, on_failed):
        self.id = participant_id
        self.side = side
        self.audio_only = False
        self.incoming: dict[str, MediaStreamTrack] = {}
        self.outgoing = {kind: ForwardTrack(kind) for kind in KINDS}
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self._pending_candidates = []

        @self.pc.on("track")
        def track_arrived(track):
            self.incoming[track.kind] = track
            on_track(self, track)

        @self.pc.on("connectionstatechange")
        async def state_changed():
            log.debug("peer %s: %s", self.id, self.pc.connectionState)
            if self.pc.connectionState == "failed":
                await on_failed(self)

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        senders = {sender.track for sender in self.pc.getSenders() if sender.track}
        for kind, track in self.outgoing.items():
            if track not in senders and any(t.kind == kind for t in self.pc.getTransceivers()):
                self.pc.addTrack(track)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        for candidate in self._pending_candidates:
            await self.pc.addIceCandidate(candidate)
        self._pending_candidates.clear()
        return self.pc.localDescription.sdp

    async def add_candidate(self, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None) -> None:
        if not candidate:
            return  # end of candidates
        parsed = candidate_from_sdp(candidate.split(":", 1)[1] if candidate.startswith("candidate:") else candidate)
        parsed.sdpMid = sdp_mid
        parsed.sdpMLineIndex = sdp_mline_index
        if self.pc.remoteDescription is None:
            self._pending_candidates.append(parsed)
        else:
            await self.pc.addIceCandidate(parsed)

    async def close(self) -> None:
        for track in self.outgoing.values():
            track.stop()
        await self.pc.close()
