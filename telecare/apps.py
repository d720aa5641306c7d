from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelecareConfig(AppConfig):
    name = "telecare"
    verbose_name = _("Telehealth")

    def ready(self):
        from booking import feeds, outbox
        from signaling.rooms import register_room_kind
        from telecare import notifications
        from telecare.rooms import ConsultationRooms
        from telecare.models import Doctor, HealthStation, Patient

        outbox.register_source(notifications.SOURCE, outbox.Source(
            is_current=notifications.is_current,
            on_reply=notifications.on_reply,
            describe=notifications.describe,
            on_delivery_failed=notifications.on_delivery_failed,
        ))
        register_room_kind(ConsultationRooms())
        feeds.register_owner(Doctor, events=notifications.doctor_events, name=lambda d: f"Lịch khám – {d.name}")
        feeds.register_owner(HealthStation, events=notifications.station_events, name=lambda s: f"Lịch khám – {s.name}")
        feeds.register_owner(Patient, events=notifications.patient_events, name=lambda p: f"Lịch khám – {p.full_name}")
