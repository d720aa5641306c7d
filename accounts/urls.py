from django.urls import path

from accounts.password_reset import ThrottledPasswordResetView

# Before django.contrib.auth.urls, whose password_reset this replaces.
urlpatterns = [
    path("password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
]
