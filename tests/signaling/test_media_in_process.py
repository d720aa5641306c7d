"""Two aiortc participants through the consumer and the media router, in one
process (the daphne test runs the same over real sockets)."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from signaling.media import router as media
from tests.signaling.sockets import caller
from tests.waiting import eventually


@pytest.mark.django_db(transaction=True)
async def test_doctor_and_station_receive_each_others_audio_and_video(room_app, live_consultation, doctor, station_worker, settings):
    settings.RECONNECT_GRACE_SECONDS = 1
    path = f"/ws/rooms/{live_consultation.room_id}/"
    tasks_before = len(asyncio.all_tasks())
    doctor_socket = WebsocketCommunicator(room_app(doctor.user), path)
    station_socket = WebsocketCommunicator(room_app(station_worker), path)
    assert (await doctor_socket.connect())[0] and (await station_socket.connect())[0]
    doctor_call, station_call = caller(doctor_socket, 40), caller(station_socket, 220)
    try:
        await doctor_call.join()
        joined = await station_call.join()
        assert [p["side"] for p in joined["participants"]] == ["doctor"]
        await doctor_call.call()
        await station_call.call()
        assert await doctor_call.wait_for_frames("video", 10) >= 10
        assert await station_call.wait_for_frames("video", 10) >= 10
        assert await doctor_call.wait_for_frames("audio", 20) >= 20
        assert await station_call.wait_for_frames("audio", 20) >= 20
        # Each sees the other's picture, not its own: the station's is the bright one.
        assert min(doctor_call.received.video_shades) > max(station_call.received.video_shades) + 50
        server_peers = [peer.pc for peer in media.routers[live_consultation.room_id].participants.values()]
        assert len(server_peers) == 2
    finally:
        await doctor_call.close()
        await station_call.close()
        await doctor_socket.disconnect()
        await station_socket.disconnect()
    # The sockets dropped without 'leave': their places are kept for
    # RECONNECT_GRACE_SECONDS, then every server peer is closed, the room's
    # router is gone, and no task is left behind.
    assert len(media.routers[live_consultation.room_id].participants) == 2
    await eventually(lambda: not media.routers, "the room's router is gone", 4, seen=lambda: media.routers)
    assert {pc.connectionState for pc in server_peers} == {"closed"}
    await eventually(lambda: len(asyncio.all_tasks()) <= tasks_before, "no task left behind", 5, seen=asyncio.all_tasks)


@pytest.mark.django_db(transaction=True)
async def test_closing_every_room_closes_every_peer(room_app, live_consultation, doctor):
    socket = WebsocketCommunicator(room_app(doctor.user), f"/ws/rooms/{live_consultation.room_id}/")
    await socket.connect()
    call = caller(socket, 40)
    await call.join()
    await call.call()
    [peer] = media.routers[live_consultation.room_id].participants.values()
    await media.close_all()  # what shutdown does
    assert media.routers == {} and peer.pc.connectionState == "closed"
    await call.close()
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_audio_only_stops_video_both_ways_and_keeps_sound(room_app, live_consultation, doctor, station_worker):
    path = f"/ws/rooms/{live_consultation.room_id}/"
    doctor_socket = WebsocketCommunicator(room_app(doctor.user), path)
    station_socket = WebsocketCommunicator(room_app(station_worker), path)
    await doctor_socket.connect()
    await station_socket.connect()
    doctor_call, station_call = caller(doctor_socket, 40), caller(station_socket, 220)
    try:
        await doctor_call.join()
        await station_call.join()
        await doctor_call.call()
        await station_call.call()
        assert await doctor_call.wait_for_frames("video", 10) >= 10
        assert await station_call.wait_for_frames("video", 10) >= 10
        await station_socket.send_to(text_data='{"v": 1, "type": "media", "audio_only": true}')
        await asyncio.sleep(0.5)  # frames already on their way still arrive
        video = (doctor_call.received.frames["video"], station_call.received.frames["video"])
        audio = (doctor_call.received.frames["audio"], station_call.received.frames["audio"])
        await asyncio.sleep(1.5)
        assert (doctor_call.received.frames["video"], station_call.received.frames["video"]) == video
        assert doctor_call.received.frames["audio"] > audio[0] + 20 and station_call.received.frames["audio"] > audio[1] + 20
        # Back to video: both pictures return.
        await station_socket.send_to(text_data='{"v": 1, "type": "media", "audio_only": false}')
        assert await doctor_call.wait_for_frames("video", video[0] + 5) >= video[0] + 5
        assert await station_call.wait_for_frames("video", video[1] + 5) >= video[1] + 5
    finally:
        await doctor_call.close()
        await station_call.close()
        await doctor_socket.disconnect()
        await station_socket.disconnect()
