"""ASGI entry point, served by daphne: HTTP with bounded request bodies
(config.body_limit), and WebSockets that come from this site's own pages
(scheme, host and port: signaling.origins) with a session."""

import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Initialise Django before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.body_limit import BodyLimit  # noqa: E402
from signaling.origins import SameOriginValidator  # noqa: E402
from signaling.routing import websocket_urlpatterns  # noqa: E402

# Under daphne the body limit must act while twisted receives the body, before
# daphne buffers it (config/daphne_body_limit.py); other servers get the middleware's.
if "daphne.server" in sys.modules:
    from config import daphne_body_limit, daphne_websockets

    daphne_body_limit.install()
    daphne_websockets.install()  # a broken limit closes with 1009, not a dropped connection

application = ProtocolTypeRouter({
    "http": BodyLimit(django_asgi_app),
    "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
