"""What a server process does before it exits.

Apps register what they hold open for the process's life (signaling: the
media routers, whose aiortc peers run decoder threads that are not daemon
threads, so a process that never closes them never exits). config.server
runs every hook when daphne is told to stop, each within a deadline, before
daphne cancels the connections' application instances.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]
_hooks: list[Hook] = []


def on_shutdown(hook: Hook) -> Hook:
    """Registers an async function to run when the server stops (once per function)."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


async def shut_down(timeout: float) -> None:
    """Runs every hook at once; one that fails or overruns is logged, never blocks the exit."""
    async def run(hook: Hook) -> None:
        name = getattr(hook, "__qualname__", repr(hook))
        try:
            await asyncio.wait_for(hook(), timeout)
        except TimeoutError:
            logger.error("shutdown hook %s did not finish within %s s", name, timeout)
        except Exception:
            logger.exception("shutdown hook %s failed", name)

    await asyncio.gather(*(run(hook) for hook in list(_hooks)))
