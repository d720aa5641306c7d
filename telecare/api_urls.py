from django.urls import path

from accounts import api as accounts_api
from telecare import api
from telecare.models import Consultation

urlpatterns = [
    path("auth/token/", accounts_api.ObtainToken.as_view(), name="api-token"),
    path("auth/logout/", accounts_api.Logout.as_view(), name="api-logout"),
    path("doctors/", api.DoctorList.as_view(), name="api-doctors"),
    path("doctors/<int:pk>/slots/", api.DoctorSlots.as_view(), name="api-doctor-slots"),
    path("patients/", api.PatientListCreate.as_view(), name="api-patients"),
    path("consultations/", api.ConsultationListCreate.as_view(), name="api-consultations"),
    path("consultations/<int:pk>/", api.ConsultationDetail.as_view(), name="api-consultation"),
    path("consultations/<int:pk>/invite.ics", api.ConsultationInvite.as_view(), name="api-invite"),
    path("consultations/<int:pk>/reschedule/", api.ConsultationReschedule.as_view(), name="api-reschedule"),
    path("consultations/<int:pk>/cancel/", api.ConsultationCancel.as_view(), name="api-cancel"),
    path(
        "consultations/<int:pk>/complete/",
        api.ConsultationClose.as_view(closing_status=Consultation.Status.COMPLETED),
        name="api-complete",
    ),
    path(
        "consultations/<int:pk>/no-show/",
        api.ConsultationClose.as_view(closing_status=Consultation.Status.NO_SHOW),
        name="api-no-show",
    ),
]
