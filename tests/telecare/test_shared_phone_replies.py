"""A relative's phone that serves several patients, of one station or of two:
a reply acts only on the consultation it names, or on the number's only open
one; otherwise nothing changes and the phone is told what to send."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from booking.models import InboundMessage, Reminder, ReplyReference
from booking.sms_text import is_gsm7, segments
from telecare import actions
from tests.conftest import MONDAY_MORNING, at, make_patient
from tests.sms_webhooks import reply

TUESDAY = MONDAY_MORNING.date() + timedelta(days=1)
SHARED = "+84912000077"  # the daughter's phone, given for her mother and her father
OTHER = "+84912000088"


def went(consultation, purpose="booked"):
    """The outbox worker sent this consultation's message."""
    reminder = Reminder.objects.get(source_id=consultation.pk, purpose=purpose, channel="sms")
    Reminder.objects.filter(pk=reminder.pk).update(status="sent", provider_sid=f"SMsent{reminder.pk:06d}", sent_at=timezone.now())
    return Reminder.objects.get(pk=reminder.pk)


def code_in(reminder) -> str:
    [code] = set(re.findall(r"\b[CH] ([0-9]{4})\b", reminder.body))
    return code


def replies_to(number):
    return list(Reminder.objects.filter(recipient=number, purpose__in=("reply", "help", "choose", "unknown_code", "nothing_open")).order_by("pk"))


@pytest.fixture
def family(doctor, station_worker, stranger, other_doctor, frozen_now):
    """The mother at Phúc Thuận's station, the father at La Bằng's, both booked,
    both with the daughter's phone; and a neighbour with a phone of her own."""
    mother = make_patient(station_worker.station_staff.station, station_worker, name="Hoàng Thị Hoa", relative_phone=SHARED)
    father = make_patient(stranger.station_staff.station, stranger, name="Hoàng Văn Sinh", relative_phone=SHARED)
    neighbour = make_patient(station_worker.station_staff.station, station_worker, name="Lò Thị Vân", relative_phone=OTHER)
    book = actions.book_consultation
    consultations = {
        "mother": book(doctor=doctor, patient=mother, start=at(TUESDAY, 9), booked_by=station_worker, reason="Ho"),
        "father": book(doctor=other_doctor, patient=father, start=at(TUESDAY, 10), booked_by=stranger, reason="Đau lưng"),
        "neighbour": book(doctor=doctor, patient=neighbour, start=at(TUESDAY, 10), booked_by=station_worker, reason="Sốt"),
    }
    return {who: (c, went(c)) for who, c in consultations.items()}


def status(consultation):
    consultation.refresh_from_db()
    return consultation.status, consultation.patient_confirmed_at is not None


def test_each_message_carries_its_own_reference_and_the_shared_phone_has_two(family):
    mother, father = code_in(family["mother"][1]), code_in(family["father"][1])
    assert mother != father
    assert "Tra loi C {0} de xac nhan, H {0} de huy".format(mother) in family["mother"][1].body


@pytest.mark.parametrize("word", ["H", "HUY", "Hủy", "2", "C", "co", "1"])
def test_a_bare_answer_from_a_phone_with_two_open_consultations_changes_neither_and_lists_them(client, family, word):
    assert reply(client, SHARED, word).status_code == 200
    assert status(family["mother"][0]) == ("booked", False)
    assert status(family["father"][0]) == ("booked", False)
    [answer] = replies_to(SHARED)
    assert answer.purpose == "choose"
    assert code_in(family["mother"][1]) in answer.body and code_in(family["father"][1]) in answer.body
    assert "Hoa 09:00 01/12" in answer.body and "Sinh 10:00 01/12" in answer.body
    assert is_gsm7(answer.body) and segments(answer.body) == ("GSM-7", 1)


@pytest.mark.parametrize("form", ["H {}", "h{}", "Huy {}", "HỦY #{}", "{} H", "2 {}"])
def test_the_mothers_reference_cancels_only_her_consultation(client, family, form):
    mother, father = family["mother"][0], family["father"][0]
    reply(client, SHARED, form.format(code_in(family["mother"][1])))
    assert status(mother)[0] == "cancelled"
    assert status(father) == ("booked", False)
    assert Reminder.objects.filter(source_id=mother.pk, purpose="cancelled", status="pending").count() == 1
    assert not Reminder.objects.filter(source_id=father.pk, purpose="cancelled").exists()
    # Her reference is closed; the father's is now the phone's only open item.
    reply(client, SHARED, "C")
    assert status(father) == ("booked", True)


def test_the_fathers_reference_confirms_only_his(client, family):
    reply(client, SHARED, f"C {code_in(family['father'][1])}")
    assert status(family["father"][0]) == ("booked", True)
    assert status(family["mother"][0]) == ("booked", False)
    assert "da xac nhan" in replies_to(SHARED)[-1].body


def test_another_numbers_reference_is_refused_and_changes_nothing(client, family):
    neighbours = code_in(family["neighbour"][1])
    if neighbours in (code_in(family["mother"][1]), code_in(family["father"][1])):
        # Codes are unique per number only; make this one differ so the test means something.
        neighbours = "1000" if "1000" not in (code_in(family["mother"][1]), code_in(family["father"][1])) else "1001"
        ReplyReference.objects.filter(number=OTHER).update(code=neighbours)
    reply(client, SHARED, f"H {neighbours}")
    assert {who: status(c)[0] for who, (c, _) in family.items()} == {"mother": "booked", "father": "booked", "neighbour": "booked"}
    [answer] = replies_to(SHARED)
    assert answer.purpose == "unknown_code" and neighbours in answer.body
    assert InboundMessage.objects.get(from_number=SHARED).action == "unknown_code"


def test_a_made_up_reference_is_refused_with_one_clear_reply(client, family):
    taken = {code_in(r) for _, r in family.values()}
    made_up = next(f"{n}" for n in range(1000, 10000) if f"{n}" not in taken)
    reply(client, SHARED, f"H {made_up}")
    reply(client, SHARED, f"C {made_up}")
    assert [a.purpose for a in replies_to(SHARED)] == ["unknown_code", "unknown_code"]
    assert all(status(c) == ("booked", False) for c, _ in family.values())


def test_a_bare_answer_acts_when_the_number_has_exactly_one_open_consultation(client, family):
    reply(client, OTHER, "H")
    assert status(family["neighbour"][0])[0] == "cancelled"


def test_a_consultation_whose_message_has_not_gone_out_is_not_an_open_item(client, doctor, station_worker, frozen_now):
    patient = make_patient(station_worker.station_staff.station, station_worker, relative_phone=SHARED)
    first = actions.book_consultation(doctor=doctor, patient=patient, start=at(TUESDAY, 9), booked_by=station_worker, reason="Ho")
    went(first)
    second = actions.book_consultation(doctor=doctor, patient=patient, start=at(TUESDAY, 10), booked_by=station_worker, reason="Ho")
    pending = Reminder.objects.get(source_id=second.pk, purpose="booked")
    assert pending.status == "pending"
    reply(client, SHARED, f"H {code_in(pending)}")  # not sent yet: nobody at this phone was told this code
    assert status(second)[0] == "booked"
    reply(client, SHARED, "H")  # the only item whose message went is the first
    assert status(first)[0] == "cancelled" and status(second)[0] == "booked"


def test_a_rescheduled_consultation_keeps_its_reference(client, family, station_worker, doctor):
    mother = family["mother"][0]
    code = code_in(family["mother"][1])
    moved = actions.reschedule_consultation(consultation=mother, start=at(TUESDAY, 10, 20), by=station_worker)
    notice = went(moved, "rescheduled")
    assert code_in(notice) == code
    reply(client, SHARED, f"C {code}")
    assert status(mother) == ("rescheduled", True)


def test_a_reference_is_refused_once_the_consultation_has_begun(client, family, frozen_now):
    frozen_now.set(at(TUESDAY, 9, 5))
    reply(client, SHARED, f"H {code_in(family['mother'][1])}")
    assert status(family["mother"][0])[0] == "booked"
    assert replies_to(SHARED)[-1].purpose == "unknown_code"


def test_codes_are_never_shared_by_two_open_items_of_one_number(doctor, station_worker, frozen_now):
    patient = make_patient(station_worker.station_staff.station, station_worker, relative_phone=SHARED)
    booked = [
        actions.book_consultation(doctor=doctor, patient=patient, start=at(TUESDAY + timedelta(days=d), hour, minute),
                                  booked_by=station_worker, reason="Ho")
        for d in range(3) for hour in (8, 9, 10) for minute in (0, 20, 40)  # Tuesday to Thursday, every slot
    ]
    codes = list(ReplyReference.objects.filter(number=SHARED, closed_at__isnull=True).values_list("code", flat=True))
    assert len(codes) == 27 and len(set(codes)) == 27
    # A cancelled consultation's code is free again only after it is closed; the open ones stay distinct.
    actions.cancel_consultation(consultation=booked[0], by=station_worker, reason="")
    assert not ReplyReference.objects.filter(source_id=booked[0].pk, closed_at__isnull=True).exists()


def test_a_patients_phone_that_writes_something_else_gets_the_clinics_help(client, family):
    from telecare.outbox_source import HELP_TEXT

    reply(client, OTHER, "toi muon hoi bac si")
    [answer] = replies_to(OTHER)
    assert answer.purpose == "help" and answer.body == HELP_TEXT and "tram y te" in answer.body
