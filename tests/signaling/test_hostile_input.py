"""Input on one socket never hurts anyone else in the room: text that is not
what we expect, JSON nested to break the parser, offers and answers past the
limits, a path that is no room's, a handler that fails, and too many sockets."""

import json

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from signaling import consumers
from signaling.media import router as media
from signaling.routing import websocket_urlpatterns
from tests.signaling.sockets import AsUser

pytestmark = pytest.mark.django_db(transaction=True)


async def offer_of(*kinds) -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    for kind in kinds:
        pc.addTransceiver(kind, direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


class Socket:
    def __init__(self, user, path):
        self.communicator = WebsocketCommunicator(AsUser(URLRouter(websocket_urlpatterns), user), path)

    @classmethod
    async def open(cls, user, room_id):
        socket = cls(user, f"/ws/rooms/{room_id}/")
        connected, _ = await socket.communicator.connect()
        assert connected
        return socket

    async def send_raw(self, text):
        await self.communicator.send_to(text_data=text)

    async def send(self, **message):
        await self.send_raw(json.dumps({"v": 1, **message}))

    async def next(self, kind, timeout=5) -> dict:
        while True:
            output = await self.communicator.receive_output(timeout)
            assert output["type"] != "websocket.close", f"closed with {output.get('code')} while waiting for {kind}"
            message = json.loads(output["text"])
            if message["type"] == kind:
                return message

    async def closed(self, timeout=5) -> int:
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output["code"]

    async def join(self) -> dict:
        await self.send(type="join")
        return await self.next("joined")

    async def close(self):
        await self.communicator.disconnect()


async def test_text_that_is_not_valid_unicode_or_has_controls_is_refused_and_the_socket_lives(live_consultation, doctor):
    socket = await Socket.open(doctor.user, live_consultation.room_id)
    await socket.join()
    for raw in (
        '{"v": 1, "type": "ice", "candidate": "\\ud800"}',  # a lone surrogate: no UTF-8 can carry it
        '{"v": 1, "type": "ice", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host\\u0000"}',
        '{"v": 1, "type": "join", "resume": "\\udfff\\ud800"}',
        '{"v": 1, "type": "offer", "sdp": "v=0\\u0000"}',
    ):
        await socket.send_raw(raw)
        assert (await socket.next("error"))["code"] == "bad_field"
    await socket.send(type="media", muted=True)  # still in the room, still heard
    await socket.close()


async def test_json_nested_too_deep_is_refused_before_it_is_parsed(live_consultation, doctor):
    socket = await Socket.open(doctor.user, live_consultation.room_id)
    deep = '{"v": 1, "type": "chat", "text": ' + "[" * 20_000 + "]" * 20_000 + "}"
    await socket.send_raw(deep)  # json.loads would raise RecursionError
    assert (await socket.next("error"))["code"] == "bad_json"
    brackets_in_a_string = json.dumps({"v": 1, "type": "join", "resume": "[" * 100})
    await socket.send_raw(brackets_in_a_string)
    assert (await socket.next("error"))["code"] == "bad_field"  # parsed: only too long
    assert (await socket.join())["type"] == "joined"
    await socket.close()


async def test_an_offer_with_too_many_media_sections_is_refused_clearly(live_consultation, doctor):
    socket = await Socket.open(doctor.user, live_consultation.room_id)
    await socket.join()
    pc, sdp = await offer_of(*["audio"] * 9)
    await socket.send(type="offer", sdp=sdp)
    error = await socket.next("error")
    assert error["code"] == "bad_sdp" and "8" in error["message"]
    assert live_consultation.room_id not in media.routers
    await pc.close()
    await socket.close()


async def test_an_answer_too_large_to_send_is_an_error_and_leaves_no_peer(live_consultation, doctor, monkeypatch):
    monkeypatch.setattr(consumers, "MAX_ANSWER_BYTES", 200)
    socket = await Socket.open(doctor.user, live_consultation.room_id)
    await socket.join()
    pc, sdp = await offer_of("audio")
    await socket.send(type="offer", sdp=sdp)
    error = await socket.next("error")
    assert error["code"] == "media_error" and "too large" in error["message"]
    assert live_consultation.room_id not in media.routers  # the peer made for it is gone, and with it the room's router
    await socket.send(type="media", muted=True)
    await pc.close()
    await socket.close()


@pytest.mark.parametrize("path", ["/ws/nothing/", "/ws/rooms/short/", "/ws/rooms/ok_room_id_123/extra/", "/"])
async def test_a_path_that_is_no_rooms_is_refused_with_4404(doctor, path):
    socket = Socket(doctor.user, path)
    connected, _ = await socket.communicator.connect()
    assert connected
    assert json.loads(await socket.communicator.receive_from())["code"] == "no_room"
    assert await socket.closed() == 4404


async def test_a_failing_handler_takes_only_its_participant_out_and_the_other_is_told(live_consultation, doctor, station_worker, monkeypatch):
    doctor_socket = await Socket.open(doctor.user, live_consultation.room_id)
    station_socket = await Socket.open(station_worker, live_consultation.room_id)
    await doctor_socket.join()
    station_id = (await station_socket.join())["you"]["id"]
    await doctor_socket.next("participant-joined")
    pcs = []
    for socket in (doctor_socket, station_socket):
        pc, sdp = await offer_of("audio", "video")
        pcs.append(pc)
        await socket.send(type="offer", sdp=sdp)
        await socket.next("answer")
    router = media.routers[live_consultation.room_id]
    assert len(router.participants) == 2

    async def broken(self, message):
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(consumers.RoomConsumer, "on_media", broken)
    await station_socket.send(type="media", muted=True)
    assert await station_socket.closed() == 1011
    assert (await doctor_socket.next("participant-left"))["id"] == station_id
    assert list(router.participants) != [] and station_id not in router.participants
    monkeypatch.undo()
    await doctor_socket.send(type="media", muted=False)  # the doctor's socket is unharmed
    for pc in pcs:
        await pc.close()
    await doctor_socket.close()


async def test_a_user_holds_at_most_a_few_sockets_in_a_room(live_consultation, doctor, settings):
    settings.ROOM_SOCKETS_PER_USER = 3
    sockets = [await Socket.open(doctor.user, live_consultation.room_id) for _ in range(3)]
    for socket in sockets:
        await socket.send(type="media", muted=True)  # not joined: each answers, so each was admitted
        assert (await socket.next("error"))["code"] == "not_joined"
    fourth = await Socket.open(doctor.user, live_consultation.room_id)
    assert (await fourth.next("error"))["code"] == "too_many_sockets"
    assert await fourth.closed() == 4429
    await sockets[0].close()
    again = await Socket.open(doctor.user, live_consultation.room_id)
    assert (await again.join())["type"] == "joined"  # a closed socket gave its place back
    for socket in [*sockets[1:], again]:
        await socket.close()
