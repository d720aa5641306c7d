from django.urls import path

from telecare import views

app_name = "telecare"

urlpatterns = [
    path("station/", views.station_dashboard, name="station"),
    path("station/patients/new/", views.patient_new, name="patient_new"),
    path("station/patients/<int:patient_id>/book/", views.book, name="book"),
    path("patients/<int:pk>/", views.patient_detail, name="patient"),
    path("doctor/", views.doctor_dashboard, name="doctor"),
    path("consultations/<int:pk>/", views.consultation_detail, name="consultation"),
    path("consultations/<int:pk>/reschedule/", views.consultation_reschedule, name="reschedule"),
    path("consultations/<int:pk>/cancel/", views.consultation_cancel, name="cancel"),
    path("consultations/<int:pk>/close/", views.consultation_close, name="close"),
    path("consultations/<int:pk>/recording-consent/", views.recording_consent, name="recording_consent"),
    path("consultations/<int:pk>/recordings/<int:recording_id>/", views.recording_download, name="recording"),
    path("rooms/<str:room_id>/", views.room, name="room"),
    path("calendar/<str:kind>/", views.calendar_feed, name="calendar_feed"),
    path("calendar/<str:kind>/<int:pk>/", views.calendar_feed, name="calendar_feed"),
]
