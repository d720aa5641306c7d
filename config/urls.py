from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from portal import views as portal_views

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include("telecare.api_urls")),
    path("", include("booking.urls")),
    path("", include("telecare.urls")),
    path("", include("classrooms.urls")),
    path("", include("classrooms.room_urls")),
]
