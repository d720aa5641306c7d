from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelecareConfig(AppConfig):
    name = "telecare"
    verbose_name = _("Telehealth")
