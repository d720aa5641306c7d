import pytest
from channels.routing import URLRouter

from signaling.routing import websocket_urlpatterns


class AsUser:
    """The routing under test, with scope["user"] set as AuthMiddleware would."""

    def __init__(self, app, user):
        self.app, self.user = app, user

    async def __call__(self, scope, receive, send):
        return await self.app({**scope, "user": self.user, "client": ["203.0.113.7", 50000]}, receive, send)


@pytest.fixture
def room_app():
    def app_for(user):
        return AsUser(URLRouter(websocket_urlpatterns), user)

    return app_for
