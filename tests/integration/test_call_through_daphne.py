"""Two Python aiortc participants hold a consultation through a running daphne
on loopback (real WebSockets, real UDP), each receiving the other's frames."""

import asyncio

import pytest
import websockets

from tests.live_server import session_cookie
from tests.signaling.call_client import CallClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cookies(doctor, station_worker, stranger):
    return {"doctor": session_cookie(doctor.user), "station": session_cookie(station_worker), "stranger": session_cookie(stranger)}


async def open_socket(base_url, room_id, cookie, *, origin=None):
    url = base_url.replace("http://", "ws://") + f"/ws/rooms/{room_id}/"
    return await websockets.connect(url, additional_headers={"Cookie": cookie}, origin=origin or base_url)


async def test_two_aiortc_participants_receive_each_others_media_through_daphne(live_daphne, live_consultation, cookies):
    doctor_cookie, station_cookie = cookies["doctor"], cookies["station"]
    doctor_ws = await open_socket(live_daphne, live_consultation.room_id, doctor_cookie)
    station_ws = await open_socket(live_daphne, live_consultation.room_id, station_cookie)
    doctor_call = CallClient(doctor_ws.send, doctor_ws.recv, shade=40)
    station_call = CallClient(station_ws.send, station_ws.recv, shade=220)
    try:
        await doctor_call.join()
        await station_call.join()
        await asyncio.gather(doctor_call.call(), station_call.call())
        assert await doctor_call.wait_for_frames("video", 30) >= 30
        assert await station_call.wait_for_frames("video", 30) >= 30
        assert await doctor_call.wait_for_frames("audio", 50) >= 50
        assert await station_call.wait_for_frames("audio", 50) >= 50
        assert min(doctor_call.received.video_shades) > max(station_call.received.video_shades) + 50
    finally:
        await doctor_call.close()
        await station_call.close()
        await doctor_ws.close()
        await station_ws.close()


async def test_a_third_user_is_refused_and_gets_no_media(live_daphne, live_consultation, cookies):
    ws = await open_socket(live_daphne, live_consultation.room_id, cookies["stranger"])
    error = await ws.recv()
    assert '"not_participant"' in error
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd.code == 4403


async def test_a_socket_from_another_origin_is_refused(live_daphne, live_consultation, cookies):
    with pytest.raises(websockets.InvalidStatus):
        await open_socket(live_daphne, live_consultation.room_id, cookies["doctor"], origin="http://evil.example")


async def test_oversized_messages_are_answered_or_cut_off(live_daphne, live_consultation, cookies):
    ws = await open_socket(live_daphne, live_consultation.room_id, cookies["doctor"])
    await ws.send("x" * 100_000)  # past the protocol's limit, within daphne's: an error message
    assert '"too_large"' in await ws.recv()
    await ws.send("x" * 200_000)  # past daphne's limit (bin/serve): dropped before it is buffered
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # as docs/signaling.md promises
    # The server is unharmed: the next socket joins.
    again = await open_socket(live_daphne, live_consultation.room_id, cookies["doctor"])
    await again.send('{"v": 1, "type": "join"}')
    assert '"joined"' in await again.recv()
    await again.close()
