from django.urls import path

from classrooms import room_views

urlpatterns = [
    path("lessons/<str:room_id>/", room_views.lesson_room, name="lesson-room"),
]
