from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from booking.phones import normalize_phone
from telecare.models import Consultation, Doctor, Patient


class PatientForm(forms.ModelForm):
    """Quick registration at the station: the commune defaults to the station's."""

    phone = forms.CharField(label=_("Own phone"), required=False, max_length=32)
    relative_phone = forms.CharField(label=_("Relative's phone"), required=False, max_length=32)

    class Meta:
        model = Patient
        fields = ["full_name", "date_of_birth", "sex", "phone", "relative_name", "relative_phone", "sms_consent"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}

    def _clean_phone(self, name):
        value = self.cleaned_data.get(name, "").strip()
        return normalize_phone(value) if value else ""

    def clean_phone(self):
        return self._clean_phone("phone")

    def clean_relative_phone(self):
        return self._clean_phone("relative_phone")

    def clean_full_name(self):
        return " ".join(self.cleaned_data["full_name"].split())

    def clean(self):
        data = super().clean()
        if data.get("sms_consent") and not (data.get("phone") or data.get("relative_phone")):
            raise ValidationError(_("SMS reminders need the patient's or a relative's phone number."))
        return data

    def _post_clean(self):
        # The station and creator are set by the action, not the form.
        pass


class BookingForm(forms.Form):
    doctor = forms.ModelChoiceField(label=_("Doctor"), queryset=Doctor.objects.filter(is_active=True))
    start = forms.DateTimeField(label=_("Time"))
    reason = forms.CharField(label=_("Reason for the consultation"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    mode = forms.ChoiceField(label=_("Mode"), choices=Consultation.Mode.choices, initial=Consultation.Mode.VIDEO)


class RescheduleForm(forms.Form):
    start = forms.DateTimeField(label=_("New time"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=300, required=False)
