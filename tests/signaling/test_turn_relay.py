"""TURN against a real coturn on loopback (bin/turn, started by the turn_server
fixture): coturn takes the app's credentials and refuses expired ones, and a
call whose participant may only use relayed candidates goes through it."""

import asyncio
import ssl
from datetime import timedelta

import pytest
from aioice import stun, turn
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from signaling.ice import turn_credentials
from signaling.media import router as media
from telecare.models import Consultation
from tests.signaling.call_client import CallClient


async def allocate(server, username, password, transport="udp"):
    """A TURN Allocate with these credentials; answers the relayed address."""
    port = server.tls_port if transport == "tls" else server.port
    tls = ssl.create_default_context(cafile=server.certificate) if transport == "tls" else None
    relay, _ = await turn.create_turn_endpoint(
        asyncio.DatagramProtocol, (server.host, port), username, password,
        transport="udp" if transport == "udp" else "tcp", ssl=tls)
    try:
        return relay.get_extra_info("sockname")
    finally:
        relay.close()


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_coturn_relays_for_a_fresh_credential(turn_server, transport):
    username, password = turn_credentials("7-a1b2c3", secret=turn_server.secret, ttl=600)
    host, port = await allocate(turn_server, username, password, transport)
    assert host == "127.0.0.1" and port > 0


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_coturn_refuses_an_expired_credential_with_401(turn_server, transport, monkeypatch):
    real_now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: real_now - timedelta(hours=2))
    username, password = turn_credentials("7-a1b2c3", secret=turn_server.secret, ttl=3600)  # ran out an hour ago
    with pytest.raises(stun.TransactionFailed) as refused:
        await allocate(turn_server, username, password, transport)
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401


async def test_coturn_refuses_a_credential_made_with_another_secret(turn_server):
    username, password = turn_credentials("7-a1b2c3", secret="not-" + turn_server.secret, ttl=600)
    with pytest.raises(stun.TransactionFailed) as refused:
        await allocate(turn_server, username, password)
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401


def nominated_pair(pc):
    """aioice's nominated candidate pair of this peer's (bundled) transport."""
    [transceiver, *_] = pc.getTransceivers()
    connection = transceiver.receiver.transport.transport.iceGatherer._connection
    [pair] = connection._nominated.values()
    return pair


@pytest.mark.django_db(transaction=True)
async def test_a_call_allowed_only_relayed_candidates_goes_through_coturn(room_app, doctor, patient, station_worker, turn_server, settings):
    settings.STUN_URLS = [f"stun:{turn_server.host}:{turn_server.port}"]
    settings.TURN_URLS = turn_server.urls
    settings.TURN_SECRET = turn_server.secret
    settings.RECONNECT_GRACE_SECONDS = 1
    now = timezone.now()
    consultation = await Consultation.objects.acreate(
        doctor=doctor, patient=patient, station=patient.station, starts_at=now, ends_at=now + timedelta(minutes=20),
        reason="Ho", booked_by=station_worker,
    )
    path = f"/ws/rooms/{consultation.room_id}/"
    doctor_socket = WebsocketCommunicator(room_app(doctor.user), path)
    station_socket = WebsocketCommunicator(room_app(station_worker), path)
    assert (await doctor_socket.connect())[0] and (await station_socket.connect())[0]
    calls = [CallClient(lambda text, s=s: s.send_to(text_data=text), s.receive_from, shade=shade, relay_only=True)
             for s, shade in ((doctor_socket, 40), (station_socket, 220))]
    try:
        for call in calls:
            await call.join()
        for call in calls:
            await call.call()
            offered = call.pc.localDescription.sdp
            assert " typ relay" in offered and " typ host" not in offered and " typ srflx" not in offered
            assert " typ relay" in call.pc.remoteDescription.sdp  # the server's own peer has a relay too
        for call in calls:
            assert await call.wait_for_frames("video", 10) >= 10
            assert await call.wait_for_frames("audio", 20) >= 20
        for call in calls:
            pair = nominated_pair(call.pc)
            assert pair.local_candidate.type == "relay"
            assert pair.local_candidate.host == "127.0.0.1"  # coturn's relay address
        server_side = [nominated_pair(peer.pc) for peer in media.routers[consultation.room_id].participants.values()]
        assert len(server_side) == 2 and {pair.remote_candidate.type for pair in server_side} == {"relay"}
        relayed = {pair.local_candidate.port for pair in map(nominated_pair, (c.pc for c in calls))}
        assert {pair.remote_candidate.port for pair in server_side} == relayed
    finally:
        for call in calls:
            await call.close()
        await doctor_socket.disconnect()
        await station_socket.disconnect()
