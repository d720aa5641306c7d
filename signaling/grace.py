"""Places kept for participants whose socket dropped.

A page that loses its socket reconnects and sends `join` with the `resume`
token its `joined` message gave it; until RECONNECT_GRACE_SECONDS have passed,
it gets its place back: the same participant id, media peer, hand, floor and
attendance row, and the others only saw "reconnecting". When the time is up the
participant leaves for good. Places are kept in this process: a socket that
reconnects to another daphne process joins afresh.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class HeldPlace:
    room_id: str
    participant_id: str
    user_id: int
    state: object  # the participant's MediaState
    hand: bool
    visit: object  # what the room kind's joined() answered
    leave: Callable[[], Awaitable[None]] = field(repr=False, default=None)
    timer: asyncio.TimerHandle | None = field(repr=False, default=None)


_held: dict[str, HeldPlace] = {}


def hold(token: str, place: HeldPlace, seconds: float) -> None:
    """Keep `place` for `seconds`, then run its leave()."""

    def expire():
        if _held.get(token) is place:
            del _held[token]
            asyncio.ensure_future(place.leave())

    place.timer = asyncio.get_running_loop().call_later(seconds, expire)
    _held[token] = place


def reclaim(token: str, room_id: str, user_id: int) -> HeldPlace | None:
    """The place held under `token`, if it is this user's in this room."""
    place = _held.get(token)
    if place is None or place.room_id != room_id or place.user_id != user_id:
        return None
    del _held[token]
    place.timer.cancel()
    return place


async def release_all() -> None:
    """On shutdown: everyone still held leaves now."""
    places = list(_held.values())
    _held.clear()
    for place in places:
        place.timer.cancel()
    await asyncio.gather(*(place.leave() for place in places), return_exceptions=True)
