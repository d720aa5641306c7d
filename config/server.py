"""daphne, as bin/serve runs it, with its access log written through logging:
the request lines then pass settings.LOGGING's filter like every other line
(no feed tokens, search terms or phone numbers from the URLs) and follow
LOG_LEVEL. `--access-log FILE` still writes to that file, redacted too.

On SIGTERM (or SIGINT) it stops cleanly within SHUTDOWN_SECONDS and a little:
every open WebSocket is closed with 1001 ("going away"), so that pages
reconnect (to another daphne behind the proxy, or to this one restarted);
then the apps' shutdown hooks run (config.lifecycle: the media peers); then
daphne cancels what is left. A thread that still keeps the process alive after
that is named in the log and the process exits anyway.

    python -m config.server [daphne's arguments] config.asgi:application
"""

import asyncio
import logging
import os
import sys
import threading
import time

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer

from config.lifecycle import shut_down
from config.log_redaction import redact

access_log = logging.getLogger("daphne.access")
logger = logging.getLogger("config.server")

GOING_AWAY = 1001
CLOSING_SECONDS = 1.0  # for the pages to answer the close frames
THREADS_SECONDS = 2.0  # for threads to end once everything is closed


class ThroughLogging:
    """Where daphne's access log writes by default: one INFO record a line."""

    def write(self, text: str) -> None:
        for line in text.splitlines():
            if line:
                access_log.info(line)

    def flush(self) -> None:
        pass


class RedactedFile:
    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write(redact(text))

    def flush(self) -> None:
        self.stream.flush()


class AccessLoggedServer(Server):
    def __init__(self, *args, action_logger=None, **kwargs):
        if action_logger is not None:  # daphne's AccessLogGenerator, writing to .stream
            stream = action_logger.stream
            action_logger.stream = ThroughLogging() if stream is sys.stdout else RedactedFile(stream)
        super().__init__(*args, action_logger=action_logger, **kwargs)

    def kill_all_applications(self):
        """daphne's "before shutdown" step, which the reactor waits for."""
        return defer.Deferred.fromFuture(asyncio.ensure_future(self.shut_down()))

    async def shut_down(self) -> None:
        from django.conf import settings

        sockets = [p for p in list(self.connections) if isinstance(p, WebSocketProtocol) and p.state == p.STATE_OPEN]
        for protocol in sockets:
            # sendClose() allows only 1000 and 3000-4999; the frame itself may carry 1001.
            protocol.sendCloseFrame(code=GOING_AWAY, reasonUtf8=b"server restarting", isReply=False)
        deadline = time.monotonic() + CLOSING_SECONDS
        while any(p.state != p.STATE_CLOSED for p in sockets) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        logger.info("shutting down: %d sockets told to go away", len(sockets))
        await shut_down(timeout=settings.SHUTDOWN_SECONDS)
        await super().kill_all_applications().asFuture(asyncio.get_running_loop())

    def run(self):
        super().run()  # returns once the reactor has stopped
        start_exit_watchdog(THREADS_SECONDS)


def start_exit_watchdog(timeout: float) -> None:
    """Python waits at exit for every non-daemon thread (idle executor threads
    end at once; a thread a library left running would keep a stopped server
    alive for good): past `timeout`, name the ones still there and exit anyway."""
    def watch() -> None:
        time.sleep(timeout)
        lingering = [t.name for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
        logger.error("threads still running %s s after shutdown, exiting anyway: %s", timeout, ", ".join(lingering))
        logging.shutdown()
        os._exit(1)

    threading.Thread(target=watch, name="exit-watchdog", daemon=True).start()


class CommandLine(CommandLineInterface):
    server_class = AccessLoggedServer


if __name__ == "__main__":
    CommandLine.entrypoint()
