from django.urls import re_path

from signaling.consumers import NoSuchRoomConsumer, RoomConsumer

websocket_urlpatterns = [
    re_path(r"^ws/rooms/(?P<room_id>[A-Za-z0-9_-]{8,64})/$", RoomConsumer.as_asgi()),
    # Any other path: refused with 4404 like an unknown room, not an error in the router.
    re_path(r"", NoSuchRoomConsumer.as_asgi()),
]
