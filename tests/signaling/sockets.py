"""Room sockets in process, as the socket tests open them: the routing with a
user set as AuthMiddleware would, a connected socket, and a CallClient that
speaks through it."""

from channels.testing import WebsocketCommunicator

from tests.signaling.call_client import CallClient


class AsUser:
    """The routing under test, with scope["user"] set as AuthMiddleware would."""

    def __init__(self, app, user):
        self.app, self.user = app, user

    async def __call__(self, scope, receive, send):
        return await self.app({**scope, "user": self.user, "client": ["203.0.113.7", 50000]}, receive, send)


async def open_socket(room_app, user, room_id):
    """A socket of `user` into the room, connected (not yet joined)."""
    socket = WebsocketCommunicator(room_app(user), f"/ws/rooms/{room_id}/")
    connected, _ = await socket.connect()
    assert connected
    return socket


def caller(socket, shade, **options):
    """A CallClient that signals through an in-process socket."""
    return CallClient(lambda text: socket.send_to(text_data=text), socket.receive_from, shade=shade, **options)
