"""Through a running daphne, where text frames really are UTF-8: a pupil's
chat with a lone surrogate reaches nobody and closes nobody's socket; a path
that is no room's is refused with 4404; and only this site's pages, by
scheme, host and port, may open a room socket."""

import json
from datetime import date, timedelta

import pytest
import websockets
from django.utils import timezone

from classrooms.models import Enrolment, Lesson, Pupil, School, SchoolClass, Teacher
from tests.conftest import make_user
from tests.live_server import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lesson_now(pilot):
    """A lesson of a class whose term holds today, starting now by the real clock (daphne's)."""
    commune = pilot["phoyen"]["commune"]
    school = School.objects.create(name="Trường THCS Phúc Thuận", commune=commune)
    teacher = Teacher.objects.create(user=make_user("teacher_live", "Hằng", "Nguyễn Thị"), school=school)
    today = date.today()
    school_class = SchoolClass.objects.create(school=school, name="6A", grade=6, subject="Toán", teacher=teacher,
                                              term_start=today - timedelta(days=7), term_end=today + timedelta(days=7))
    pupils = []
    for n, name in enumerate(["Hoàng Thị Mai", "Lường Thị Lan"], start=1):
        pupil = Pupil.objects.create(user=make_user(f"pupil_live_{n}"), full_name=name, grade=6, commune=commune,
                                     guardian_name="Phụ huynh")
        Enrolment.objects.create(pupil=pupil, school_class=school_class)
        pupils.append(pupil)
    now = timezone.now()
    lesson = Lesson.objects.create(school_class=school_class, starts_at=now, ends_at=now + timedelta(minutes=45))
    return lesson, session_cookie(teacher.user), [session_cookie(p.user) for p in pupils]


async def open_room(base_url, room_id, cookie, *, origin=None, path=None):
    url = base_url.replace("http://", "ws://") + (path or f"/ws/rooms/{room_id}/")
    return await websockets.connect(url, additional_headers={"Cookie": cookie}, origin=origin or base_url)


async def joined(ws) -> dict:
    await ws.send(json.dumps({"v": 1, "type": "join"}))
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "joined":
            return message


async def next_of(ws, kind, match=lambda m: True):
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == kind and match(message):
            return message


async def test_a_chat_with_a_lone_surrogate_reaches_nobody_and_closes_nothing(live_daphne, lesson_now):
    lesson, teacher, (attacker, other) = lesson_now
    sockets = [await open_room(live_daphne, lesson.room_id, cookie) for cookie in (teacher, attacker, other)]
    try:
        for ws in sockets:
            await joined(ws)
        teacher_ws, attacker_ws, other_ws = sockets
        # The escape keeps the frame valid UTF-8; what it decodes to is not.
        await attacker_ws.send('{"v": 1, "type": "chat", "text": "xin ch\\u00e0o \\ud800"}')
        error = await next_of(attacker_ws, "error")
        assert error["code"] == "bad_field"
        await attacker_ws.send(json.dumps({"v": 1, "type": "chat", "text": "Hoa\u0300ng"}))  # decomposed: sent NFC
        for ws in (teacher_ws, other_ws):
            chat = await next_of(ws, "chat")
            assert chat["text"] == "Hoàng"
    finally:
        for ws in sockets:
            await ws.close()


@pytest.mark.parametrize("path", ["/ws/nothing/", "/ws/rooms/x/", "/ws/"])
async def test_a_path_that_is_no_rooms_is_refused_with_4404(live_daphne, lesson_now, path):
    lesson, teacher, _ = lesson_now
    ws = await open_room(live_daphne, lesson.room_id, teacher, path=path)
    assert json.loads(await ws.recv())["code"] == "no_room"
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd.code == 4404


def other_origins(base_url: str) -> list[str]:
    port = int(base_url.rsplit(":", 1)[1])
    return [
        f"https://127.0.0.1:{port}",  # another scheme
        f"http://127.0.0.1:{port + 1}",  # another port of the same host
        "http://127.0.0.1",  # the default port
        f"http://evil.example:{port}",  # another host
        "null",  # a sandboxed page or a file
    ]


async def test_only_this_sites_origin_opens_a_room_socket(live_daphne, lesson_now):
    lesson, cookie, _ = lesson_now
    for origin in other_origins(live_daphne):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await open_room(live_daphne, lesson.room_id, cookie, origin=origin)
        assert refused.value.response.status_code == 403, origin
    ws = await open_room(live_daphne, lesson.room_id, cookie, origin=live_daphne)
    assert (await joined(ws))["you"]["side"] == "teacher"
    await ws.close()
    # localhost is one of ALLOWED_HOSTS: its own origin passes, as a page served at localhost opens it.
    url = live_daphne.replace("127.0.0.1", "localhost")
    ws = await open_room(url, lesson.room_id, cookie, origin=url)
    assert (await joined(ws))["you"]["side"] == "teacher"
    await ws.close()
