from django.urls import path

from booking import feeds, webhooks

urlpatterns = [
    path("calendars/<str:token>.ics", feeds.feed, name="calendar-feed"),
    path("webhooks/sms/status/", webhooks.sms_status, name="sms-status"),
    path("webhooks/sms/inbound/", webhooks.sms_inbound, name="sms-inbound"),
]
