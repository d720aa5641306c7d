"""Slot arithmetic on half-open time intervals [start, end).

Knows nothing of doctors or lessons: callers turn their availability into
windows and their bookings into busy intervals.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from datetime import datetime, timedelta


@dataclass(frozen=True, order=True)
class Interval:
    start: datetime
    end: datetime

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError(f"interval ends before it starts: {self.start} .. {self.end}")

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals touch without overlapping: 9:00-9:20 and 9:20-9:40 are fine."""
    return a_start < b_end and b_start < a_end


def split_into_slots(window: Interval, length: timedelta) -> Iterator[Interval]:
    """Consecutive slots of `length` from the window's start; a short tail is dropped."""
    if length <= timedelta(0):
        raise ValueError("slot length must be positive")
    start = window.start
    while start + length <= window.end:
        yield Interval(start, start + length)
        start += length


def free_slots(
    windows: Iterable[Interval],
    length: timedelta,
    busy: Iterable[Interval],
    *,
    not_before: datetime | None = None,
) -> list[Interval]:
    """Slots cut from each window that overlap no busy interval, in time order.

    Busy intervals are sorted once and walked with a moving index, so the cost
    is linear in slots plus bookings rather than their product.
    """
    busy_sorted = sorted(busy)
    slots = sorted(s for w in windows for s in split_into_slots(w, length))
    result = []
    first = 0
    for slot in slots:
        if not_before is not None and slot.start < not_before:
            continue
        # Busy intervals that end before this slot starts can never matter again.
        while first < len(busy_sorted) and busy_sorted[first].end <= slot.start:
            first += 1
        taken = False
        for b in islice(busy_sorted, first, None):
            if b.start >= slot.end:
                break
            if b.overlaps(slot):
                taken = True
                break
        if not taken:
            result.append(slot)
    return result
