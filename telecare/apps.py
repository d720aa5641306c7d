from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelecareConfig(AppConfig):
    name = "telecare"
    verbose_name = _("Telehealth")

    def ready(self):
        from booking import feeds, outbox
        from signaling.rooms import register_room_kind
        from telecare import calendar_events, outbox_source
        from telecare.models import Doctor, HealthStation, Patient
        from telecare.notifications import SOURCE
        from telecare.rooms import ConsultationRooms

        outbox.register_source(SOURCE, outbox.Source(
            is_current=outbox_source.is_current,
            on_reply=outbox_source.on_reply,
            describe=outbox_source.describe,
            on_delivery_failed=outbox_source.on_delivery_failed,
            help_text=outbox_source.HELP_TEXT,
        ))
        register_room_kind(ConsultationRooms())
        feeds.register_owner(Doctor, events=calendar_events.doctor_events, name=lambda d: f"Lịch khám – {d.name}")
        feeds.register_owner(HealthStation, events=calendar_events.station_events, name=lambda s: f"Lịch khám – {s.name}")
        feeds.register_owner(Patient, events=calendar_events.patient_events, name=lambda p: f"Lịch khám – {p.full_name}")
