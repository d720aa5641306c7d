"""Camera and microphone only on the room pages, the screen only in the lesson
room (the teacher shares it); every other page, and a room page refused, may
use none of them."""



def features(response) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))


def test_the_consultation_room_may_use_camera_and_microphone_not_the_screen(served):
    policy = features(served["consultation room"])
    assert policy["camera"] == "(self)" and policy["microphone"] == "(self)"
    assert policy["display-capture"] == "()" and policy["geolocation"] == "()"


def test_the_lesson_room_may_also_share_the_screen(served):
    policy = features(served["lesson room"])
    assert policy["camera"] == policy["microphone"] == policy["display-capture"] == "(self)"


def test_every_other_response_denies_them(served):
    for name, response in served.items():
        if name in ("consultation room", "lesson room"):
            continue
        policy = features(response)
        assert policy["camera"] == policy["microphone"] == policy["display-capture"] == "()", name


def test_a_room_page_refused_gets_no_devices(client, school_class, stranger):
    from classrooms.actions import schedule_term

    schedule_term(school_class=school_class)
    client.force_login(stranger)
    response = client.get(school_class.lessons.first().room_url())
    assert response.status_code == 403
    assert features(response)["camera"] == features(response)["microphone"] == "()"
