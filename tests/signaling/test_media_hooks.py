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


def test_aiortc_still_makes_its_encoder_on_the_first_frame_with_the_module_level_lookup():
    from aiortc import rtcrtpsender
    from aiortc.codecs import opus

    source = inspect.getsource(rtcrtpsender.RTCRtpSender._next_encoded_frame)
    assert "self.__encoder = get_encoder(codec)" in source
    encoder = opus.OpusEncoder()
    assert encoder.codec.bit_rate == 96_000 and not encoder.codec.is_open  # libopus reads the rate when it opens
    assert encoder.codec.options == {"application": "voip"}


def opus_bitrate_of_noise(seconds: int = 2) -> float:
    """What an Opus encoder made by a sender's lookup spends on white noise, in bit/s."""
    import random

    from aiortc import rtcrtpsender
    from aiortc.codecs import get_capabilities
    from av import AudioFrame

    codec = next(c for c in get_capabilities("audio").codecs if c.name == "opus")
    encoder = rtcrtpsender.get_encoder(codec)
    noise = random.Random(5)
    sent = 0
    for n in range(50 * seconds):  # 20 ms frames
        frame = AudioFrame(format="s16", layout="stereo", samples=960)
        frame.planes[0].update(noise.randbytes(960 * 2 * 2))
        frame.sample_rate, frame.pts = 48_000, n * 960
        payloads, _ = encoder.encode(frame)
        sent += sum(len(p) for p in payloads)
    return sent * 8 / seconds


def test_the_servers_opus_encoders_use_the_configured_voice_bitrate(settings):
    from signaling.media.encoded import set_voice_bitrate

    assert settings.AUDIO_BITRATE == 24_000  # set at start-up by the signaling app
    configured = opus_bitrate_of_noise()
    try:
        set_voice_bitrate(None)
        stock = opus_bitrate_of_noise()
    finally:
        set_voice_bitrate(settings.AUDIO_BITRATE)
    assert 16_000 <= configured <= 24_000 * 1.2, configured
    assert stock >= 80_000, stock  # aiortc's own 96 kbit/s, which the hook replaces


def test_aiortc_still_only_sets_its_encoders_clamped_bitrate_from_remb():
    from aiortc import rtcrtpsender
    from aiortc.codecs import h264, vpx

    source = inspect.getsource(rtcrtpsender.RTCRtpSender._handle_rtcp_packet)
    remb = source[source.index("RTCP_PSFB_APP"):]
    assert "self.__encoder.target_bitrate = bitrate" in remb and "await" not in remb
    for encoder_class in (vpx.Vp8Encoder, h264.H264Encoder):
        encoder = encoder_class()
        private = f"_{encoder_class.__name__}__target_bitrate"
        assert hasattr(encoder, private)
        encoder.target_bitrate = 60_000
        assert getattr(encoder, private) >= 250_000  # aiortc's floor (VP8 250 kbit/s, H264 500), which set_target_bitrate goes under
        assert "bit_rate = self.target_bitrate" in inspect.getsource(encoder_class)  # read when the codec opens


def vp8_bitrate_of_noise(set_bitrate, bitrate: int, seconds: int = 2, fps: int = 7) -> float:
    """What aiortc's VP8 encoder spends on 160x120 faint noise (grain on grey, which
    a coarse quantizer can flatten) at `bitrate`, in bit/s."""
    import random
    from fractions import Fraction

    from aiortc.codecs import vpx
    from av import VideoFrame

    encoder = vpx.Vp8Encoder()
    set_bitrate(encoder, bitrate)
    noise = random.Random(7)
    sent = 0
    for n in range(fps * seconds):
        frame = VideoFrame(160, 120, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes(120 + b % 16 for b in noise.randbytes(plane.buffer_size)))
        frame.pts, frame.time_base = n * 90_000 // fps, Fraction(1, 90_000)
        payloads, _ = encoder.encode(frame)
        sent += sum(len(p) for p in payloads)
    return sent * 8 / seconds


def test_a_video_cap_under_aiortcs_floor_holds():
    from signaling.media.encoded import set_target_bitrate

    def stock(encoder, bitrate):
        encoder.target_bitrate = bitrate

    capped = vp8_bitrate_of_noise(set_target_bitrate, 60_000)
    clamped = vp8_bitrate_of_noise(stock, 60_000)
    assert capped <= 60_000 * 1.2, capped
    assert clamped >= 150_000, clamped  # what a 60 kbit/s cap used to give
