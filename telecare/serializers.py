from datetime import date, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from booking.phones import normalize_phone
from communes.models import Commune
from telecare.models import Consultation, Doctor, Patient


class PhoneField(serializers.CharField):
    """Accepts what people type and stores E.164 (+84...)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value:
            return ""
        try:
            return normalize_phone(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class DoctorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    hospital = serializers.CharField(source="hospital.name", read_only=True)
    district = serializers.CharField(source="hospital.district.name", read_only=True)

    class Meta:
        model = Doctor
        fields = ["id", "name", "specialty", "hospital", "district"]


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class SlotQuerySerializer(serializers.Serializer):
    MAX_DAYS = 62

    from_ = serializers.DateField(required=False)
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields

    # Slots are local datetimes: a year near 1 or 9999 overflows once a zone is applied.
    EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)

    def validate(self, attrs):
        for key in ("from", "to"):
            day = attrs.get(key)
            if day is not None and not self.EARLIEST <= day <= self.LATEST:
                raise serializers.ValidationError({key: _("Dates go from %(first)s to %(last)s.") % {
                    "first": self.EARLIEST.isoformat(), "last": self.LATEST.isoformat()}})
        first = attrs["from"] = attrs.get("from") or timezone.localdate()
        last = attrs["to"] = attrs.get("to") or first + timedelta(days=6)
        if last < first:
            raise serializers.ValidationError({"to": _("'to' must not be before 'from'.")})
        if (last - first).days >= self.MAX_DAYS:
            raise serializers.ValidationError({"to": _("Ask for at most %(days)s days at once.") % {"days": self.MAX_DAYS}})
        return attrs


class PatientSerializer(serializers.ModelSerializer):
    commune = serializers.PrimaryKeyRelatedField(queryset=Commune.objects.all(), required=False)
    station = serializers.PrimaryKeyRelatedField(read_only=True)
    phone = PhoneField()
    relative_phone = PhoneField()

    class Meta:
        model = Patient
        fields = [
            "id", "full_name", "date_of_birth", "sex", "commune", "station",
            "phone", "relative_name", "relative_phone", "sms_consent",
        ]

    def validate_full_name(self, value):
        value = " ".join(value.split())
        if not value:
            raise serializers.ValidationError(_("Enter the patient's full name."))
        return value

    def validate(self, attrs):
        if attrs.get("sms_consent") and not (attrs.get("phone") or attrs.get("relative_phone")):
            raise serializers.ValidationError(
                {"sms_consent": _("SMS reminders need the patient's or a relative's phone number.")}
            )
        return attrs


class ConsultationSerializer(serializers.ModelSerializer):
    start = serializers.DateTimeField(source="starts_at", read_only=True)
    end = serializers.DateTimeField(source="ends_at", read_only=True)
    doctor = DoctorSerializer(read_only=True)
    patient = serializers.SerializerMethodField()
    station = serializers.CharField(source="station.name", read_only=True)
    room_url = serializers.SerializerMethodField()

    class Meta:
        model = Consultation
        fields = [
            "id", "uid", "start", "end", "status", "mode", "reason", "sequence",
            "doctor", "patient", "station", "room_url", "cancel_reason",
        ]
        read_only_fields = fields

    def get_patient(self, consultation) -> dict:
        patient = consultation.patient
        return {"id": patient.pk, "full_name": patient.full_name}

    def get_room_url(self, consultation) -> str:
        request = self.context.get("request")
        url = consultation.room_url()
        return request.build_absolute_uri(url) if request else url


class ConsultationCreateSerializer(serializers.Serializer):
    doctor = serializers.PrimaryKeyRelatedField(queryset=Doctor.objects.filter(is_active=True))
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    start = serializers.DateTimeField()
    reason = serializers.CharField(max_length=500)
    mode = serializers.ChoiceField(choices=Consultation.Mode.choices, default=Consultation.Mode.VIDEO)


class RescheduleSerializer(serializers.Serializer):
    start = serializers.DateTimeField()


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
