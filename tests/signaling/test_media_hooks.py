"""The hooks into aioice and aiortc internals: these fail loudly if an upgrade moves them."""

import inspect

import aioice
import aioice.ice
import aiortc
import pytest

from signaling.media.aioice_hooks import restrict_host_addresses


def test_pinned_versions_are_the_ones_the_hooks_were_written_for():
    assert aiortc.__version__ == "1.16.0"
    assert aioice.__version__ == "0.13.0"


def test_aioice_still_looks_host_addresses_up_through_the_module_function():
    source = inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert "get_host_addresses(" in source


async def test_the_server_gathers_only_the_configured_addresses():
    # The app configured 127.0.0.1 (ICE_HOST_ADDRESSES) at start-up.
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1"]
    connection = aioice.Connection(ice_controlling=True, stun_server=None)
    try:
        await connection.gather_candidates()
        assert {(c.host, c.type) for c in connection.local_candidates} == {("127.0.0.1", "host")}
    finally:
        await connection.close()


def test_a_bad_address_is_refused_and_an_empty_list_restores_aioice():
    with pytest.raises(ValueError):
        restrict_host_addresses(["not-an-address"])
    try:
        restrict_host_addresses([])
        assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
        restrict_host_addresses(["127.0.0.1", "::1"])
        assert aioice.ice.get_host_addresses(use_ipv4=False, use_ipv6=True) == ["::1"]
    finally:
        restrict_host_addresses(["127.0.0.1"])


# signaling/media/encoded.py: forwarding encoded frames.
def test_aiortc_still_starts_its_decoder_thread_with_the_module_level_worker():
    from aiortc import rtcrtpreceiver

    from signaling.media import encoded

    source = inspect.getsource(rtcrtpreceiver.RTCRtpReceiver.receive)
    assert "target=decoder_worker" in source
    assert rtcrtpreceiver.decoder_worker is encoded._dispatching_worker
    assert list(inspect.signature(encoded._decoding_worker).parameters) == ["loop", "input_q", "output_q", "decode_error"]
    # The receiver hands (codec, JitterFrame) to the worker and the track's queue is `_queue`.
    handler = inspect.getsource(rtcrtpreceiver.RTCRtpReceiver._handle_rtp_packet)
    assert "self.__decoder_queue.put((codec, encoded_frame))" in handler
    assert "self._track._queue" in source


def test_aiortc_still_packetizes_whatever_is_not_a_frame():
    from aiortc import rtcrtpsender
    from aiortc.codecs import opus, vpx

    source = inspect.getsource(rtcrtpsender.RTCRtpSender._next_encoded_frame)
    assert "isinstance(data, Frame)" in source and ".pack(data)" in source
    for encoder in (vpx.Vp8Encoder, opus.OpusEncoder):
        pack = inspect.getsource(encoder.pack)
        assert "bytes(packet)" in pack and "packet.pts" in pack and "packet.time_base" in pack


def test_aiortc_still_routes_keyframe_requests_and_sends_pli_where_the_hooks_expect():
    from aiortc import rtcpeerconnection, rtcrtpreceiver, rtcrtpsender

    assert "self._send_keyframe()" in inspect.getsource(rtcrtpsender.RTCRtpSender._handle_rtcp_packet)
    assert "RTCP_PSFB_PLI" in inspect.getsource(rtcrtpreceiver.RTCRtpReceiver._send_rtcp_pli)
    # keep_only_codecs narrows transceiver._codecs, which the answer is built from.
    assert "create_media_description_for_transceiver(" in inspect.getsource(rtcpeerconnection.RTCPeerConnection.createAnswer)
    assert "codecs=transceiver._codecs" in inspect.getsource(rtcpeerconnection.create_media_description_for_transceiver)


def test_vp8_keyframes_are_recognised():
    from signaling.media.encoded import is_keyframe

    assert is_keyframe("VP8", bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A]))
    assert not is_keyframe("VP8", bytes([0x11, 0x02, 0x00]))
    assert not is_keyframe("VP8", b"")
    assert is_keyframe("opus", b"\x01")
