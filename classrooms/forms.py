from django import forms
from django.utils.translation import gettext_lazy as _


class MoveLessonForm(forms.Form):
    start = forms.DateTimeField(label=_("New time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class AddLessonForm(forms.Form):
    start = forms.DateTimeField(label=_("Time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    duration_minutes = forms.IntegerField(label=_("Length (minutes)"), min_value=5, max_value=300, initial=45)
