"""One participant's connection to the server: an aiortc RTCPeerConnection that
receives their audio and video and sends them the others' through ForwardTracks.

The browser always offers; the server answers with every candidate in the SDP
(aiortc gathers before answering) and takes the browser's trickled candidates.
Each of the offer's transceivers gets a ForwardTrack, named by kind in offer
order: "audio", "video", then "audio2" for a second audio transceiver (an
audience member's, for the voice of whoever has the floor).

With `codecs` (broadcast rooms), the peer receives encoded frames instead of
decoded ones and answers with only those codecs (signaling.media.encoded).
"""

import logging
from collections.abc import Callable

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from signaling.media import encoded
from signaling.media.forward import ForwardTrack

log = logging.getLogger(__name__)
KINDS = ("audio", "video")
# What forwarding rooms answer with: every peer of a room speaks the codecs its frames are in.
CODECS = {"audio": "opus", "video": "VP8"}


def rtc_configuration(ice_servers: list[dict] | Callable[[], list[dict]]) -> RTCConfiguration:
    if callable(ice_servers):  # fresh TURN credentials for each peer (signaling.ice.server_ice_servers)
        ice_servers = ice_servers()
    # An explicit list, even empty: aiortc's default is a public STUN server.
    return RTCConfiguration(iceServers=[
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential")) for s in ice_servers
    ])


def _ice_ufrags(sdp: str) -> set[str]:
    return {line.split(":", 1)[1].strip() for line in sdp.splitlines() if line.startswith("a=ice-ufrag:")}


def capped(sdp: str, *, video: int, audio: int) -> str:
    """The answer with the most the browser may send: video's b=AS and b=TIAS
    (RFC 3890), and Opus's maxaveragebitrate (RFC 7587), which browsers honour
    for their encoders. Forwarded frames reach the other side as sent, so this
    is what that side receives while its link is good."""
    lines, out, kind = sdp.split("\r\n"), [], None
    for line in lines:
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        if kind == "audio" and line.startswith("a=fmtp:") and "maxaveragebitrate" not in line and _is_opus(sdp, line):
            line += f";maxaveragebitrate={audio}"
        out.append(line)
        if kind == "video" and line.startswith("c="):
            out += [f"b=AS:{max(1, video // 1000)}", f"b=TIAS:{video}"]
    return "\r\n".join(out)


def _is_opus(sdp: str, fmtp: str) -> bool:
    payload_type = fmtp[len("a=fmtp:"):].split(" ", 1)[0]
    return f"a=rtpmap:{payload_type} opus/" in sdp.lower()


class ParticipantPeer:
    def __init__(self, participant_id: str, side: str, *, ice_servers: list[dict], on_track, on_failed,
                 codecs: dict[str, str] | None = None, on_sender=None, send_caps: dict[str, int] | None = None):
        self.id = participant_id
        self.side = side
        self.audio_only = False
        self.codecs = codecs
        self.send_caps = send_caps  # bit/s the browser may send per kind, told in the answer
        self.incoming: dict[str, MediaStreamTrack] = {}
        self.outgoing = {kind: ForwardTrack(kind) for kind in KINDS}
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self._on_sender = on_sender
        self._pending_candidates = []
        self.senders = {}  # slot -> RTCRtpSender
        self.auto_audio_only = False  # the server stepped this participant down (signaling.media.quality)
        self.link = None  # their LinkAdapter, once media flows
        self.bandwidth = None  # an encoded.SenderControl of the video sent to them
        self.last_reports: dict[str, object] = {}

        @self.pc.on("track")
        def track_arrived(track):
            if track.kind in self.incoming:
                return  # a participant sends one audio and one video
            if codecs:
                encoded.receive_encoded(track)
            self.incoming[track.kind] = track
            on_track(self, track)

        @self.pc.on("connectionstatechange")
        async def state_changed():
            log.debug("peer %s: %s", self.id, self.pc.connectionState)
            if self.pc.connectionState == "failed":
                await on_failed(self)

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        if self.codecs:
            encoded.keep_only_codecs(self.pc, self.codecs)
        seen: dict[str, int] = {}
        for transceiver in self.pc.getTransceivers():
            kind = transceiver.kind
            seen[kind] = seen.get(kind, 0) + 1
            slot = kind if seen[kind] == 1 else f"{kind}{seen[kind]}"
            track = self.outgoing.setdefault(slot, ForwardTrack(kind))
            if transceiver.sender.track is None:  # addTrack fills the first free transceiver of the kind: this one
                sender = self.senders[slot] = self.pc.addTrack(track)
                if self._on_sender is not None:
                    self._on_sender(self, slot, sender)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        for candidate in self._pending_candidates:
            await self.pc.addIceCandidate(candidate)
        self._pending_candidates.clear()
        sdp = self.pc.localDescription.sdp
        return capped(sdp, **self.send_caps) if self.send_caps else sdp

    def is_new_connection(self, offer_sdp: str) -> bool:
        """Whether this offer starts a new connection rather than renegotiating
        this one: its ICE credentials differ (a new RTCPeerConnection or an ICE
        restart), or this one is already dead."""
        if self.pc.connectionState in ("failed", "closed"):
            return True
        if self.pc.remoteDescription is None:
            return False
        return _ice_ufrags(offer_sdp) != _ice_ufrags(self.pc.remoteDescription.sdp)

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
