"""The lesson room socket: who may enter, the lesson's messages (start, hands,
the floor, mute, chat, end), attendance, the recording, and a pupil unenrolled
mid-lesson. Media runs in tests/signaling/test_lesson_media.py and the browser
test; here aiortc joins only for the recording."""

import asyncio
import json
from datetime import timedelta

import av
import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from classrooms import actions
from classrooms.models import Attendance, Enrolment, Lesson, Recording
from signaling.media import router as media
from signaling.routing import websocket_urlpatterns
from tests.conftest import MONDAY_MORNING
from tests.signaling.sockets import AsUser
from tests.signaling.lesson_client import LessonClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lesson(scheduled, frozen_now, settings, tmp_path):
    settings.RECORDINGS_DIR = tmp_path / "recordings"
    frozen_now.set(MONDAY_MORNING + timedelta(hours=2))  # Monday 08:00, the lesson's start
    return Lesson.objects.select_related("school_class").get(school_class=scheduled, starts_at=MONDAY_MORNING + timedelta(hours=2))


@pytest.fixture
def pupil_of_another_class(other_class):
    return other_class.active_pupils().get().user


class Socket:
    def __init__(self, user, room_id):
        self.communicator = WebsocketCommunicator(AsUser(URLRouter(websocket_urlpatterns), user), f"/ws/rooms/{room_id}/")
        self.seen: list[dict] = []

    async def open(self):
        connected, _ = await self.communicator.connect()
        assert connected
        return self

    async def send(self, kind, **fields):
        await self.communicator.send_to(text_data=json.dumps({"v": 1, "type": kind, **fields}))

    async def next(self, kind, timeout=5) -> dict:
        while True:
            message = json.loads(await self.communicator.receive_from(timeout))
            self.seen.append(message)
            if message["type"] == kind:
                return message

    async def join(self) -> dict:
        await self.send("join")
        return await self.next("joined")

    async def closed(self) -> int:
        while True:
            output = await self.communicator.receive_output(5)
            if output["type"] == "websocket.close":
                return output["code"]
            self.seen.append(json.loads(output["text"]))

    async def close(self):
        await self.communicator.disconnect()


async def refused(user, room_id) -> tuple[str, int]:
    socket = await Socket(user, room_id).open()
    error = await socket.next("error")
    return error["code"], await socket.closed()


async def test_only_the_teacher_and_enrolled_pupils_enter(lesson, teacher, pupils, point, pupil_of_another_class, stranger):
    assert await refused(pupil_of_another_class, lesson.room_id) == ("not_enrolled", 4403)
    assert await refused(stranger, lesson.room_id) == ("not_enrolled", 4403)
    for user, side, name in [(teacher.user, "teacher", "Nguyễn Thị Hằng"), (pupils[0].user, "pupil", "Hoàng Thị Mai"),
                             (point.device_user, "pupil", "Nhà văn hóa xóm Đồng (2")]:
        socket = await Socket(user, lesson.room_id).open()
        joined = await socket.join()
        assert joined["you"]["side"] == side and joined["you"]["name"].startswith(name)
        assert joined["lesson"] == {"state": "waiting", "floor": None, "hands": [], "recording": False}
        await socket.close()


async def test_a_cancelled_lesson_and_one_not_open_yet_refuse(lesson, teacher, pupils, frozen_now):
    later = await sync_to_async(Lesson.objects.filter(school_class_id=lesson.school_class_id, starts_at__gt=lesson.starts_at).first)()
    assert await refused(pupils[0].user, later.room_id) == ("not_open_yet", 4403)
    await sync_to_async(actions.cancel_lesson)(lesson=later, by=teacher.user)
    assert await refused(pupils[0].user, later.room_id) == ("cancelled", 4404)


async def test_a_pupil_unenrolled_mid_lesson_is_put_out(lesson, teacher, pupils):
    teacher_socket = await (Socket(teacher.user, lesson.room_id)).open()
    await teacher_socket.join()
    await teacher_socket.send("start")
    await teacher_socket.next("lesson")
    mai = await Socket(pupils[0].user, lesson.room_id).open()
    await mai.join()
    enrolment = await sync_to_async(Enrolment.objects.get)(pupil=pupils[0], school_class_id=lesson.school_class_id, ended_at=None)
    await sync_to_async(actions.unenrol)(enrolment=enrolment)
    error = await mai.next("error")
    assert error["code"] == "unenrolled"
    assert await mai.closed() == 4403
    left = await teacher_socket.next("participant-left")
    assert left["id"]
    assert await refused(pupils[0].user, lesson.room_id) == ("not_enrolled", 4403)
    attendance = await sync_to_async(Attendance.objects.get)(lesson=lesson, pupil=pupils[0])
    assert attendance.left_at is not None
    await teacher_socket.close()


async def test_a_lesson_from_start_to_end(lesson, teacher, pupils, point):
    teacher_socket = await Socket(teacher.user, lesson.room_id).open()
    await teacher_socket.join()
    mai = await Socket(pupils[0].user, lesson.room_id).open()
    await mai.join()
    device = await Socket(point.device_user, lesson.room_id).open()
    device_joined = await device.join()
    mai_id = (await teacher_socket.next("participant-joined"))["participant"]["id"]
    device_id = device_joined["you"]["id"]

    await mai.send("hand", raised=True)
    assert (await mai.next("error"))["code"] == "not_live"
    await mai.send("start")
    assert (await mai.next("error"))["code"] == "teacher_only"
    await teacher_socket.send("hand", raised=True)
    assert (await teacher_socket.next("error"))["code"] == "pupil_only"

    await teacher_socket.send("start")
    for socket in (teacher_socket, mai, device):
        assert await socket.next("lesson") == {"v": 1, "type": "lesson", "state": "live", "recording": True}

    await mai.send("hand", raised=True)
    assert await teacher_socket.next("hand") == {"v": 1, "type": "hand", "id": mai_id, "raised": True}
    await teacher_socket.send("floor", id="nobody-here")
    assert (await teacher_socket.next("error"))["code"] == "no_such_participant"
    await teacher_socket.send("floor", id=mai_id)
    for socket in (teacher_socket, mai, device):
        assert (await socket.next("floor"))["id"] == mai_id
    assert media.routers[lesson.room_id].floor == mai_id

    await teacher_socket.send("mute", id=mai_id)
    await mai.next("muted-by-teacher")
    assert (await device.next("floor"))["id"] is None
    assert media.routers[lesson.room_id].floor is None

    await device.send("chat", text="  Em chào cô ạ  ")
    for socket in (teacher_socket, mai, device):
        chat = await socket.next("chat")
        assert (chat["id"], chat["text"]) == (device_id, "Em chào cô ạ")
    await mai.send("chat", text="x" * 501)
    assert (await mai.next("error"))["code"] == "bad_field"

    await teacher_socket.send("end")
    for socket in (teacher_socket, mai, device):
        assert (await socket.next("lesson"))["state"] == "ended"
        assert await socket.closed() == 1000
    assert lesson.room_id not in media.routers

    rows = await sync_to_async(list)(Attendance.objects.filter(lesson=lesson).order_by("pupil__full_name").values_list(
        "pupil__full_name", "via", "left_at"))
    assert [(name, via) for name, via, _ in rows] == [
        ("Hoàng Thị Mai", "own"), ("Lường Thị Lan", "device"), ("Nông Văn Nam", "device")]
    assert all(left_at is not None for *_, left_at in rows)
    assert await refused(pupils[0].user, lesson.room_id) == ("closed", 4403)
    recording = await sync_to_async(Recording.objects.get)(lesson=lesson)
    assert recording.file().exists() and recording.file("audio").exists()


async def test_the_recording_of_a_lesson_with_media_holds_its_duration(lesson, teacher, pupils):
    teacher_socket = await Socket(teacher.user, lesson.room_id).open()
    await teacher_socket.join()
    camera = LessonClient("teacher")
    try:
        await teacher_socket.send("offer", sdp=await camera.offer())
        await camera.accept((await teacher_socket.next("answer"))["sdp"])
        await teacher_socket.send("start")
        await teacher_socket.next("lesson")
        await asyncio.sleep(3)
        await teacher_socket.send("end")
        await teacher_socket.next("lesson")
        assert await teacher_socket.closed() == 1000
    finally:
        await camera.close()
    recording = await sync_to_async(Recording.objects.get)(lesson=lesson)
    assert 2.8 < recording.duration_seconds < 5
    with av.open(str(recording.file())) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "video"]
        assert abs(container.duration / 1_000_000 - recording.duration_seconds) < 0.6
        assert sum(1 for _ in container.decode(video=0)) >= 25


async def test_a_pupil_whose_socket_drops_keeps_one_attendance_row_and_leaves_at_the_drop(lesson, teacher, pupils, settings, frozen_now):
    settings.RECONNECT_GRACE_SECONDS = 2.0  # time enough to reconnect on a loaded PostgreSQL + Redis run
    teacher_socket = await Socket(teacher.user, lesson.room_id).open()
    await teacher_socket.join()
    mai = await Socket(pupils[0].user, lesson.room_id).open()
    joined = await mai.join()
    await mai.communicator.disconnect(code=1006)
    assert (await teacher_socket.next("participant-reconnecting"))["id"] == joined["you"]["id"]
    mai = await Socket(pupils[0].user, lesson.room_id).open()
    await mai.send("join", resume=joined["resume"])
    assert (await mai.next("joined"))["you"]["id"] == joined["you"]["id"]
    assert await sync_to_async(Attendance.objects.filter(lesson=lesson).count)() == 1
    dropped_at = frozen_now() + timedelta(minutes=5)
    frozen_now.set(dropped_at)
    await mai.communicator.disconnect(code=1006)
    frozen_now.set(dropped_at + timedelta(minutes=1))  # the place expires later; she left when the link dropped
    assert (await teacher_socket.next("participant-left"))["id"] == joined["you"]["id"]
    row = await sync_to_async(Attendance.objects.get)(lesson=lesson)
    assert row.left_at == dropped_at
    await teacher_socket.close()
