"""At most ROOM_SOCKETS_PER_USER sockets per user per room, across every web
process: each open socket holds one numbered slot in the cache (Redis in a
deployment). A slot is taken with an atomic add, renewed while the socket
lives, and given back when it closes; a process that dies without giving its
slots back frees them when they expire."""

import asyncio

from django.conf import settings
from django.core.cache import cache

SLOT_SECONDS = 90  # how long a slot outlives a process that died holding it
RENEW_SECONDS = 30


class SocketSlot:
    def __init__(self, room_id: str, user_id: int, owner: str):
        self.room_id, self.user_id, self.owner = room_id, user_id, owner
        self.key: str | None = None
        self._renewal: asyncio.Task | None = None

    def _keys(self):
        return [f"room-socket:{self.room_id}:{self.user_id}:{n}" for n in range(settings.ROOM_SOCKETS_PER_USER)]

    async def claim(self) -> bool:
        """Take a free slot; False when the user already holds every one."""
        for key in self._keys():
            if await cache.aadd(key, self.owner, timeout=SLOT_SECONDS):
                self.key = key
                self._renewal = asyncio.ensure_future(self._renew())
                return True
        return False

    async def _renew(self):
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            if await cache.aget(self.key) == self.owner:
                await cache.atouch(self.key, SLOT_SECONDS)
            elif not await cache.aadd(self.key, self.owner, timeout=SLOT_SECONDS):
                return  # expired under load and taken by a new socket: that one counts, this one no longer does

    async def release(self):
        if self._renewal is not None:
            self._renewal.cancel()
            self._renewal = None
        key, self.key = self.key, None
        if key is not None and await cache.aget(key) == self.owner:
            await cache.adelete(key)
