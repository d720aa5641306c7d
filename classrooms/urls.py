from django.urls import path

from classrooms import views

app_name = "classrooms"

# The lesson room itself (/lessons/<room_id>/) is classrooms.room_views.
urlpatterns = [
    path("teacher/", views.teacher_dashboard, name="teacher"),
    path("school/", views.school_attendance, name="school"),
    path("pupil/", views.pupil_home, name="pupil"),
    path("classes/<int:pk>/", views.class_detail, name="class"),
    path("classes/<int:pk>/attendance.csv", views.attendance_csv, name="attendance_csv"),
    path("classes/<int:pk>/lessons/add/", views.lesson_add, name="add_lesson"),
    path("lessons/<int:pk>/move/", views.lesson_move, name="move"),
    path("lessons/<int:pk>/cancel/", views.lesson_cancel, name="cancel"),
    path("recordings/<int:pk>/", views.recording_detail, name="recording"),
    path("recordings/<int:pk>/<str:kind>/", views.recording_file, name="recording_file"),
    path("lesson-calendars/<str:kind>/", views.calendar_feed, name="calendar_feed"),
    path("lesson-calendars/<str:kind>/<int:pk>/", views.calendar_feed, name="calendar_feed"),
]
