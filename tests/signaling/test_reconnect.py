"""A dropped socket keeps the participant's place for RECONNECT_GRACE_SECONDS:
the others see "reconnecting", a page that comes back with its resume token
is the same participant with the same media, and a page whose media path died
starts a fresh connection in the same place."""

import asyncio
import json

import pytest

from signaling.media import router as media
from tests.signaling.sockets import caller, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_page_that_reconnects_in_time_keeps_its_place_and_its_media(room_app, live_consultation, doctor, station_worker):
    doctor_socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
    doctor_call, station_call = caller(doctor_socket, 40), caller(station_socket, 220)
    try:
        await doctor_call.join()
        station_joined = await station_call.join()
        await doctor_call.call()
        await station_call.call()
        assert await doctor_call.wait_for_frames("video", 10) >= 10
        station_id, token = station_joined["you"]["id"], station_joined["resume"]
        server_peer = media.routers[live_consultation.room_id].participants[station_id]

        await station_socket.disconnect(code=1006)  # the mobile link dropped
        assert (await doctor_call.message("participant-reconnecting"))["id"] == station_id
        frames = doctor_call.received.frames["video"]
        assert await doctor_call.wait_for_frames("video", frames + 10) >= frames + 10  # the media path is fine

        station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
        await station_socket.send_to(text_data=json.dumps({"v": 1, "type": "join", "resume": token}))
        again = json.loads(await station_socket.receive_from())
        assert again["type"] == "joined" and again["resumed"] is True and again["you"]["id"] == station_id
        assert [p["id"] for p in again["participants"]] == [doctor_call.joined["you"]["id"]]
        told = await doctor_call.message("participant-joined")
        assert told["participant"]["id"] == station_id
        assert media.routers[live_consultation.room_id].participants[station_id] is server_peer
        assert not any(e["type"] == "participant-left" for e in doctor_call.events)
    finally:
        await doctor_call.close()
        await station_call.close()
        await doctor_socket.disconnect()
        await station_socket.disconnect()


async def test_a_token_is_only_good_for_its_own_user_and_room(room_app, live_consultation, doctor, station_worker):
    station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
    await station_socket.send_to(text_data='{"v": 1, "type": "join"}')
    joined = json.loads(await station_socket.receive_from())
    await station_socket.disconnect(code=1006)
    doctor_socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    await doctor_socket.send_to(text_data=json.dumps({"v": 1, "type": "join", "resume": joined["resume"]}))
    doctor_joined = json.loads(await doctor_socket.receive_from())
    assert doctor_joined["resumed"] is False and doctor_joined["you"]["id"] != joined["you"]["id"]
    await doctor_socket.disconnect()


async def test_when_the_grace_period_ends_the_participant_leaves_for_good(room_app, live_consultation, doctor, station_worker, settings):
    settings.RECONNECT_GRACE_SECONDS = 0.3
    doctor_socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
    doctor_call, station_call = caller(doctor_socket, 40), caller(station_socket, 220)
    try:
        await doctor_call.join()
        station_joined = await station_call.join()
        await station_call.call()
        await station_socket.disconnect(code=1006)
        await doctor_call.message("participant-reconnecting")
        left = await doctor_call.message("participant-left", timeout=5)
        assert left["id"] == station_joined["you"]["id"]
        assert station_joined["you"]["id"] not in getattr(media.routers.get(live_consultation.room_id), "participants", {})
        # Too late: the token no longer holds a place.
        station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
        await station_socket.send_to(text_data=json.dumps({"v": 1, "type": "join", "resume": station_joined["resume"]}))
        assert json.loads(await station_socket.receive_from())["resumed"] is False
    finally:
        await doctor_call.close()
        await station_call.close()
        await doctor_socket.disconnect()
        await station_socket.disconnect()


async def test_a_page_whose_media_path_died_connects_afresh_in_the_same_place(room_app, live_consultation, doctor, station_worker):
    doctor_socket = await open_socket(room_app, doctor.user, live_consultation.room_id)
    station_socket = await open_socket(room_app, station_worker, live_consultation.room_id)
    doctor_call, station_call = caller(doctor_socket, 40), caller(station_socket, 220)
    try:
        await doctor_call.join()
        station_id = (await station_call.join())["you"]["id"]
        await doctor_call.call()
        await station_call.call()
        assert await doctor_call.wait_for_frames("video", 10) >= 10
        old_peer = media.routers[live_consultation.room_id].participants[station_id]
        await station_call.pc.close()  # the media path is gone
        await asyncio.sleep(0.5)
        frames = doctor_call.received.frames["video"]
        await station_call.call()  # a new RTCPeerConnection: new ICE credentials
        assert await doctor_call.wait_for_frames("video", frames + 15) >= frames + 15
        assert await station_call.wait_for_frames("video", 10) >= 10
        router = media.routers[live_consultation.room_id]
        assert router.participants[station_id] is not old_peer
        assert old_peer.pc.connectionState == "closed"
        assert list(router.participants) == [doctor_call.joined["you"]["id"], station_id]
    finally:
        await doctor_call.close()
        await station_call.close()
        await doctor_socket.disconnect()
        await station_socket.disconnect()
