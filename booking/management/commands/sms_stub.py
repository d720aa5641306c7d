"""python manage.py sms_stub: the Twilio-compatible stub provider, configured
from the settings the gateway client reads, so the two agree out of the box."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from booking import sms_stub


def port_of(url: str) -> int:
    try:
        parts = urlsplit(url)
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise CommandError(f"SMS_API_BASE {url!r} has no usable port: {error}") from error


class Command(BaseCommand):
    help = "Run the stub SMS provider (Twilio's Messages API, status callbacks, inbound replies, an inbox page at /)."
    # It never touches models or the database: start fast, as the test fixtures need.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, help="default: the port of SMS_API_BASE; 0 picks a free port")
        parser.add_argument("--inbound-url", help="where replies are posted; default: PUBLIC_BASE_URL/webhooks/sms/inbound/")
        parser.add_argument("--callback-delay", type=float, default=0.2, help="seconds between delivery statuses")
        parser.add_argument("--log", dest="log_path", help="append every accepted outbound message here, one JSON line each")

    def handle(self, *args, host, port, inbound_url, callback_delay, log_path, **options):
        if port is None:
            port = port_of(settings.SMS_API_BASE)
        stub_settings = sms_stub.StubSettings(
            account_sid=settings.SMS_ACCOUNT_SID,
            auth_token=settings.SMS_AUTH_TOKEN,
            sender=settings.SMS_FROM,
            inbound_url=inbound_url or f"{settings.PUBLIC_BASE_URL}/webhooks/sms/inbound/",
            callback_delay=callback_delay,
            log_path=log_path,
        )
        try:
            server = sms_stub.StubServer(sms_stub.Provider(stub_settings), host, port)
        except OSError as error:
            raise CommandError(f"cannot listen on {host}:{port}: {error}") from error

        def announce(line):
            self.stdout.write(line)
            self.stdout.flush()

        sms_stub.serve(server, announce)
