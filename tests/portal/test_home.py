"""The home page at /: signing in lands each role on its own app's page."""

from tests.conftest import PASSWORD


def test_login_uses_the_standard_fields_and_lands_on_the_role_dashboard(client, station_worker, doctor):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and 'lang="vi"' in html
    response = client.post("/accounts/login/", {"username": "station_phucthuan", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/station/"
    client.logout()
    response = client.post("/accounts/login/", {"username": "doctor_phoyen", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/doctor/"


def test_home_sends_each_lesson_role_to_its_page(client, scheduled, teacher, pupils, point, school_staff):
    for user, page in [(teacher.user, "/teacher/"), (pupils[0].user, "/pupil/"), (point.device_user, "/pupil/"), (school_staff, "/school/")]:
        client.force_login(user)
        response = client.get("/")
        assert response.status_code == 302 and response["Location"] == page, user
        assert client.get(page).status_code == 200


def test_the_district_manager_goes_to_the_admin(client, django_user_model):
    manager = django_user_model.objects.create_user("manager", password=PASSWORD, is_staff=True)
    client.force_login(manager)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_an_account_without_a_role_is_told_whom_to_ask(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password=PASSWORD))
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 200
    assert "chưa có vai trò" in response.content.decode()


def test_the_home_page_asks_to_sign_in_first(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
