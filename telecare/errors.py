"""Domain errors of booking. One place per interface turns them into answers:
telecare.api_errors for the API (400/403/409), messages for the pages."""

from django.utils.translation import gettext_lazy as _


class BookingError(Exception):
    status = 400
    code = "invalid"
    default_message = _("This booking is not possible.")
    field = None  # the input field the error belongs to, if one

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class NotAllowed(BookingError):
    status = 403
    code = "forbidden"
    default_message = _("You may not do this for this patient or consultation.")


class SlotTaken(BookingError):
    status = 409
    code = "slot_taken"
    default_message = _("This time was just booked by someone else. Please choose another slot.")


class PatientBusy(BookingError):
    status = 409
    code = "patient_busy"
    default_message = _("The patient already has a consultation at this time.")


class NotChangeable(BookingError):
    status = 409
    code = "not_changeable"
    default_message = _("This consultation can no longer be changed.")


class SlotNotOffered(BookingError):
    code = "slot_not_offered"
    field = "start"
    default_message = _("The doctor does not offer a consultation at this time.")


class InPast(BookingError):
    code = "in_past"
    field = "start"
    default_message = _("This time has already passed.")


class TooEarly(BookingError):
    code = "too_early"
    default_message = _("A consultation can only be closed once it has started.")


class TooFarAhead(BookingError):
    code = "too_far_ahead"
    field = "start"
    default_message = _("Consultations can be booked at most %(days)s days ahead.")


class ConsentNotChangeable(BookingError):
    status = 409
    code = "consent_not_changeable"
    default_message = _("The consultation is over: the consent to recording can no longer be changed.")


class NoConsent(BookingError):
    status = 403
    code = "no_consent"
    default_message = _("The patient has not consented to recording. The station records the consent on the consultation's page.")
