"""ICE servers for a call: STUN and TURN from configuration, TURN credentials of
the TURN REST API scheme, handed only to participants admitted into the room."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from config.env import env_urls
from signaling.ice import ice_servers_for, server_ice_servers, turn_credentials
from signaling.media.peer import rtc_configuration

ROOT = Path(__file__).resolve().parents[2]
TURN_URLS = ["turn:turn.example.vn:3478?transport=udp", "turn:turn.example.vn:3478?transport=tcp",
             "turns:turn.example.vn:5349?transport=tcp"]
MOMENT = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # Unix time 1700000000


@pytest.fixture
def at_moment(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: MOMENT)


@pytest.fixture
def turn_configured(settings):
    settings.STUN_URLS = ["stun:turn.example.vn:3478"]
    settings.TURN_URLS = TURN_URLS
    settings.TURN_SECRET = "north-secret"
    settings.TURN_CREDENTIAL_TTL = 600
    return settings


def test_a_credential_is_the_expiry_and_the_user_key_signed_with_the_shared_secret(at_moment):
    username, password = turn_credentials("alice", secret="north-secret", ttl=0)
    assert username == "1700000000:alice"
    # The same vector from openssl: printf 1700000000:alice | openssl dgst -sha1 -hmac north-secret -binary | base64
    assert password == "g+jb180fcj+xlpA/2mP60OdIgU0="


def test_a_credential_expires_ttl_seconds_from_now(at_moment):
    username, password = turn_credentials("7-a1b2c3", secret="s", ttl=3600)
    assert username == "1700003600:7-a1b2c3"
    assert password == base64.b64encode(hmac.new(b"s", username.encode(), hashlib.sha1).digest()).decode()


def test_a_user_key_with_a_colon_is_refused():
    with pytest.raises(ValueError):
        turn_credentials("7:a1b2c3", secret="s", ttl=60)


def test_without_turn_only_stun_is_handed_out(settings):
    settings.STUN_URLS, settings.TURN_URLS = [], []
    assert ice_servers_for("7-a1b2c3") == []
    settings.STUN_URLS = ["stun:stun.example.vn:3478"]
    assert ice_servers_for("7-a1b2c3") == [{"urls": ["stun:stun.example.vn:3478"]}]


def test_with_turn_each_call_gets_stun_and_turn_with_fresh_credentials(turn_configured, at_moment):
    stun, turn = ice_servers_for("7-a1b2c3")
    assert stun == {"urls": ["stun:turn.example.vn:3478"]}
    assert turn["urls"] == TURN_URLS
    assert turn["username"] == "1700000600:7-a1b2c3"
    assert (turn["username"], turn["credential"]) == turn_credentials("7-a1b2c3", secret="north-secret", ttl=600)


def test_the_servers_peer_gets_credentials_of_its_own_each_time_it_makes_a_peer(turn_configured, monkeypatch):
    moments = iter([MOMENT, MOMENT + timedelta(hours=2)])
    monkeypatch.setattr(timezone, "now", lambda: next(moments))
    first, later = rtc_configuration(server_ice_servers), rtc_configuration(server_ice_servers)
    assert [s.urls for s in first.iceServers] == [["stun:turn.example.vn:3478"], TURN_URLS]
    assert first.iceServers[1].username == "1700000600:media-server"
    assert later.iceServers[1].username == "1700007800:media-server"  # a room outlives one credential
    assert later.iceServers[1].credential != first.iceServers[1].credential


def test_aiortc_takes_the_first_turn_url_with_its_transport(turn_configured, at_moment):
    from aiortc.rtcicetransport import connection_kwargs

    kwargs = connection_kwargs(rtc_configuration(server_ice_servers).iceServers)
    assert kwargs["turn_server"] == ("turn.example.vn", 3478) and kwargs["turn_transport"] == "udp"
    assert not kwargs["turn_ssl"] and kwargs["turn_username"] == "1700000600:media-server"
    assert kwargs["stun_server"] == ("turn.example.vn", 3478)
    tcp_first = [{"urls": ["turns:turn.example.vn:5349?transport=tcp"], "username": "u", "credential": "p"}]
    kwargs = connection_kwargs(rtc_configuration(tcp_first).iceServers)
    assert kwargs["turn_ssl"] and kwargs["turn_transport"] == "tcp" and kwargs["turn_server"] == ("turn.example.vn", 5349)


def test_urls_of_the_wrong_scheme_are_refused(monkeypatch):
    monkeypatch.setenv("X_TURN", "turn:a.vn:3478?transport=udp, turns:a.vn:5349?transport=tcp")
    assert env_urls("X_TURN", ("turn", "turns")) == ["turn:a.vn:3478?transport=udp", "turns:a.vn:5349?transport=tcp"]
    for bad in ("stun:a.vn:3478", "a.vn:3478", "turn:", "https://a.vn"):
        monkeypatch.setenv("X_TURN", bad)
        with pytest.raises(ImproperlyConfigured, match="X_TURN"):
            env_urls("X_TURN", ("turn", "turns"))


def start_up(**env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TURN_", "STUN_"))}
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_turn_without_its_secret_refuses_to_start():
    result = start_up(TURN_URLS="turn:127.0.0.1:3478?transport=udp")
    assert result.returncode != 0 and "TURN_SECRET" in result.stderr and "ImproperlyConfigured" in result.stderr
    result = start_up(TURN_URLS="turn:127.0.0.1:3478?transport=udp", TURN_SECRET="s", STUN_URLS="stun:127.0.0.1:3478")
    assert result.returncode == 0, result.stderr
    assert "STUN_URLS" in start_up(STUN_URLS="127.0.0.1:3478").stderr


# The room socket: credentials only for participants admitted into the room.
async def everything_sent(socket) -> list[str]:
    frames = []
    while not await socket.receive_nothing(timeout=0.3):
        output = await socket.receive_output()
        frames.append(output.get("text", "") or output.get("type", ""))
    return frames


@pytest.mark.django_db(transaction=True)
async def test_a_participant_who_joins_gets_turn_credentials_of_their_own(room_app, live_consultation, doctor, station_worker, turn_configured):
    live = live_consultation
    sockets, servers = [], []
    for user in (doctor.user, station_worker):
        socket = WebsocketCommunicator(room_app(user), f"/ws/rooms/{live.room_id}/")
        assert (await socket.connect())[0]
        sockets.append(socket)
        await socket.send_to(text_data=json.dumps({"v": 1, "type": "join"}))
        joined = json.loads(await socket.receive_from())
        assert joined["type"] == "joined"
        stun, turn = joined["ice_servers"]
        assert stun == {"urls": ["stun:turn.example.vn:3478"]} and turn["urls"] == TURN_URLS
        expiry, user_key = turn["username"].split(":")
        assert user_key == f"{user.pk}-{joined['you']['id']}"
        assert 590 <= int(expiry) - timezone.now().timestamp() <= 600
        assert turn["credential"] == base64.b64encode(
            hmac.new(b"north-secret", turn["username"].encode(), hashlib.sha1).digest()).decode()
        servers.append(turn)
    assert servers[0]["username"] != servers[1]["username"]
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_refused_socket_never_sees_credentials(room_app, live_consultation, doctor, stranger, other_doctor, turn_configured):
    live = live_consultation
    for user, close_code in [(AnonymousUser(), 4401), (stranger, 4403), (other_doctor.user, 4403)]:
        socket = WebsocketCommunicator(room_app(user), f"/ws/rooms/{live.room_id}/")
        assert (await socket.connect())[0]
        await socket.send_to(text_data=json.dumps({"v": 1, "type": "join"}))  # even if it asks anyway
        frames = await everything_sent(socket)
        assert json.loads(frames[0])["type"] == "error" and frames[1:] == ["websocket.close"], frames
        assert not any("turn" in frame or "credential" in frame or "ice_servers" in frame for frame in frames)
        await socket.disconnect()
    late = WebsocketCommunicator(room_app(doctor.user), "/ws/rooms/nosuchroom123/")
    assert (await late.connect())[0]
    assert "ice_servers" not in "".join(await everything_sent(late))
    await late.disconnect()
