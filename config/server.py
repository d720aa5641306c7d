"""daphne, as bin/serve runs it, with its access log written through logging:
the request lines then pass settings.LOGGING's filter like every other line
(no feed tokens, search terms or phone numbers from the URLs) and follow
LOG_LEVEL. `--access-log FILE` still writes to that file, redacted too.

    python -m config.server [daphne's arguments] config.asgi:application
"""

import logging
import sys

from daphne.cli import CommandLineInterface
from daphne.server import Server

from config.log_redaction import redact

access_log = logging.getLogger("daphne.access")


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


class CommandLine(CommandLineInterface):
    server_class = AccessLoggedServer


if __name__ == "__main__":
    CommandLine.entrypoint()
