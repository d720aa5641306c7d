"""The district manager's admin shows delivery failures, replies, opt-outs and
feeds, never who the patient is: no patient's or relative's name or number, no
message text, no feed token, on any page of any registered model. Guardians'
numbers show masked in lists (a pupil's own page has the number to edit)."""

import html
import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from booking.models import InboundMessage, Reminder, SmsOptOut
from classrooms.models import Pupil
from tests.privacy.conftest import PATIENT_PHONE, written_forms


@pytest.fixture
def manager(db):
    return get_user_model().objects.create_superuser("admin", "admin@huyen.example.vn", "district-manager-pw")


def admin_pages():
    """Every registered model's list, and the change, history and delete pages of each of its objects."""
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield model, reverse("admin:%s_%s_changelist" % info)
        for obj in model._default_manager.all():
            yield model, reverse("admin:%s_%s_change" % info, args=[obj.pk])
            yield model, reverse("admin:%s_%s_history" % info, args=[obj.pk])
            try:
                yield model, reverse("admin:%s_%s_delete" % info, args=[obj.pk])
            except NoReverseMatch:
                pass


def texts_of_messages():
    """Every line of every message's text, subject and invite that is long enough to be telling."""
    lines = set()
    for reminder in Reminder.objects.all():
        for text in (reminder.body, reminder.subject, reminder.attachment):
            lines.update(line.strip() for line in text.splitlines() if len(line.strip()) >= 12)
    for message in InboundMessage.objects.all():
        lines.add(message.body.strip())
    return lines


def test_no_admin_page_shows_a_patient_a_number_a_message_or_a_feed_token(client, manager, district):
    client.force_login(manager)
    secrets = {
        "patient or relative's name": district.names,
        "patient or relative's number": district.numbers,
        "message text": texts_of_messages(),
        "feed token": [feed.token for feed in district.feeds],
    }
    assert len(secrets["message text"]) >= 5 and len(secrets["feed token"]) == 4
    guardians = [form for pupil in district.pupils for form in written_forms(pupil.guardian_phone)]
    pages = list(admin_pages()) + [(None, reverse("admin:index"))]
    assert len(pages) > 60
    for model, url in pages:
        response = client.get(url)
        # Pages a model's admin does not offer (no delete) answer 403.
        assert response.status_code in (200, 403), url
        page = html.unescape(response.content.decode())
        for kind, values in secrets.items():
            for value in values:
                assert value not in page, f"{url} shows a {kind}: {value!r}"
        if not (model is Pupil and re.search(r"/\d+/change/$", url)):
            for number in guardians:
                assert number not in page, f"{url} shows a guardian's number: {number!r}"


def test_lists_show_numbers_masked(client, manager, district):
    client.force_login(manager)
    masked = PATIENT_PHONE[:5] + "****" + PATIENT_PHONE[-3:]
    assert masked == "+8498****321"
    for url in ["/admin/booking/reminder/", "/admin/booking/inboundmessage/", "/admin/booking/smsoptout/"]:
        assert masked in client.get(url).content.decode(), url
    guardian = district.pupils[0].guardian_phone
    assert guardian[:5] + "****" + guardian[-3:] in client.get("/admin/classrooms/pupil/").content.decode()


@pytest.mark.parametrize("typed", ["0987 654 321", "+84987654321", "84987654321"])
def test_a_whole_number_in_any_form_finds_its_messages_and_opt_out(client, manager, district, typed):
    client.force_login(manager)
    found = client.get("/admin/booking/reminder/", {"q": typed}).context["cl"].result_list
    assert {r.recipient for r in found} == {PATIENT_PHONE}
    assert [o.number for o in client.get("/admin/booking/smsoptout/", {"q": typed}).context["cl"].result_list] == [PATIENT_PHONE]


def test_part_of_a_number_finds_nothing(client, manager, district):
    client.force_login(manager)
    for part in ["+849876", "0987", "654321"]:
        assert not client.get("/admin/booking/reminder/", {"q": part}).context["cl"].result_list, part
        assert not client.get("/admin/classrooms/pupil/", {"q": part}).context["cl"].result_list, part


def test_an_opt_out_is_added_by_number_and_then_shown_masked(client, manager, district):
    client.force_login(manager)
    response = client.post("/admin/booking/smsoptout/add/", {"number": "+84912777888", "at_0": "2026-11-30", "at_1": "10:00"})
    assert response.status_code == 302
    optout = SmsOptOut.objects.get(number="+84912777888")
    page = client.get(f"/admin/booking/smsoptout/{optout.pk}/change/").content.decode()
    assert "+8491****888" in page and "912777888" not in page
