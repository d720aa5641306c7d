"""Waiting on a condition with a deadline, instead of sleeping a fixed time and
hoping: the wait ends as soon as the condition holds, and a timeout says what
was awaited and what there was instead."""

import asyncio
import inspect
import time


def wait_for(check, what: str, timeout: float = 20, *, seen=None, interval: float = 0.25):
    """Polls check() until it answers something true and returns that answer;
    `seen()` says what there was instead when it does not come in time."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last seen: {seen() if seen else found!r})")
        time.sleep(interval)


async def eventually(check, what: str, timeout: float = 10, *, seen=None, interval: float = 0.05):
    """wait_for on an event loop: check() may be a plain function or return an awaitable."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last seen: {seen() if seen else found!r})")
        await asyncio.sleep(interval)
