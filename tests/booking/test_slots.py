from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.slots import Interval, free_slots, overlaps, split_into_slots

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def t(hh, mm=0, day=30):
    return datetime(2026, 11, day, hh, mm, tzinfo=HCM)


def test_a_window_splits_into_whole_slots_and_drops_a_short_tail():
    slots = list(split_into_slots(Interval(t(8), t(9, 10)), timedelta(minutes=20)))
    assert [(s.start, s.end) for s in slots] == [(t(8), t(8, 20)), (t(8, 20), t(8, 40)), (t(8, 40), t(9))]


def test_touching_intervals_do_not_overlap():
    assert not overlaps(t(8), t(8, 20), t(8, 20), t(8, 40))
    assert overlaps(t(8), t(8, 20), t(8, 19), t(8, 40))


def test_free_slots_leave_out_busy_ones_and_the_past():
    window = Interval(t(8), t(10))
    busy = [Interval(t(8, 20), t(8, 40)), Interval(t(9, 30), t(9, 50))]  # the second is off the slot grid
    free = free_slots([window], timedelta(minutes=20), busy, not_before=t(8, 1))
    assert [s.start for s in free] == [t(8, 40), t(9, 0)]


def test_free_slots_of_several_windows_come_in_time_order():
    windows = [Interval(t(13), t(13, 40)), Interval(t(8), t(8, 40))]
    free = free_slots(windows, timedelta(minutes=20), [])
    assert [s.start for s in free] == [t(8), t(8, 20), t(13), t(13, 20)]


def test_an_interval_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        Interval(t(9), t(8))


def test_a_slot_length_of_zero_is_refused():
    with pytest.raises(ValueError):
        list(split_into_slots(Interval(t(8), t(9)), timedelta(0)))
