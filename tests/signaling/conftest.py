import pytest
from channels.routing import URLRouter

from signaling.routing import websocket_urlpatterns
from tests.signaling.sockets import AsUser


@pytest.fixture
def room_app():
    def app_for(user):
        return AsUser(URLRouter(websocket_urlpatterns), user)

    return app_for
