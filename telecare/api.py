"""JSON API v1: thin views over telecare.actions; errors mapped in api_errors."""

from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.ical import build_invite
from telecare import actions, calendar_events
from telecare.access import get_consultation_for, patients_visible_to, search_patients
from telecare.audit import record_access, record_accesses
from telecare.availability import free_slots
from telecare.models import AuditEntry, Consultation, Doctor
from telecare.serializers import (
    CancelSerializer,
    ConsultationCreateSerializer,
    ConsultationSerializer,
    DoctorSerializer,
    PatientSerializer,
    RescheduleSerializer,
    SlotQuerySerializer,
    SlotSerializer,
)

ERROR = OpenApiResponse(description="Error with `detail` and `code`, or per-field errors")


class IsStationStaff(permissions.BasePermission):
    def has_permission(self, request, view):
        return hasattr(request.user, "station_staff")


class IsStationStaffOrDoctor(permissions.BasePermission):
    def has_permission(self, request, view):
        return hasattr(request.user, "station_staff") or hasattr(request.user, "doctor")


class StaffWritesDoctorsRead(permissions.BasePermission):
    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return IsStationStaffOrDoctor().has_permission(request, view)
        return IsStationStaff().has_permission(request, view)


class DoctorList(generics.ListAPIView):
    permission_classes = [permissions.IsAuthenticated, IsStationStaffOrDoctor]
    serializer_class = DoctorSerializer
    queryset = Doctor.objects.filter(is_active=True).select_related("user", "hospital__district")


class DoctorSlots(APIView):
    permission_classes = [permissions.IsAuthenticated, IsStationStaffOrDoctor]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First local day (default today)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last local day (default from + 6 days)"),
        ],
        responses={200: SlotSerializer(many=True), 400: ERROR, 404: ERROR},
    )
    def get(self, request, pk):
        doctor = get_object_or_404(Doctor, pk=pk, is_active=True)
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        slots = free_slots(doctor, query.validated_data["from"], query.validated_data["to"])
        return Response(SlotSerializer(slots, many=True).data)


class PatientPages(PageNumberPagination):
    page_size = 50


class PatientListCreate(generics.ListCreateAPIView):
    permission_classes = [permissions.IsAuthenticated, StaffWritesDoctorsRead]
    serializer_class = PatientSerializer
    pagination_class = PatientPages

    @extend_schema(parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Part of a name or phone number")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        patients = patients_visible_to(self.request.user).order_by("full_name", "pk")
        return search_patients(patients, self.request.query_params.get("q", ""))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        record_accesses(self.request, AuditEntry.Action.LIST_PATIENT, page)
        return page

    def perform_create(self, serializer):
        serializer.instance = actions.register_patient(registered_by=self.request.user, **serializer.validated_data)


class ConsultationListCreate(APIView):
    permission_classes = [permissions.IsAuthenticated, StaffWritesDoctorsRead]

    @extend_schema(responses={200: ConsultationSerializer(many=True)})
    def get(self, request):
        """Upcoming and current consultations the caller may see."""
        since = timezone.now() - timedelta(hours=12)
        consultations = (
            Consultation.objects.visible_to(request.user)
            .filter(ends_at__gte=since)
            .select_related("doctor__user", "doctor__hospital__district", "patient", "station")[:200]
        )
        return Response(ConsultationSerializer(consultations, many=True, context={"request": request}).data)

    @extend_schema(
        request=ConsultationCreateSerializer,
        responses={201: ConsultationSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def post(self, request):
        form = ConsultationCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        consultation = actions.book_consultation(
            doctor=data["doctor"],
            patient=data["patient"],
            start=data["start"],
            reason=data["reason"],
            mode=data["mode"],
            booked_by=request.user,
        )
        body = ConsultationSerializer(consultation, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ConsultationDetail(APIView):
    permission_classes = [permissions.IsAuthenticated, IsStationStaffOrDoctor]

    @extend_schema(responses={200: ConsultationSerializer, 404: ERROR})
    def get(self, request, pk):
        consultation = get_consultation_for(request.user, pk)
        record_access(request, AuditEntry.Action.VIEW_CONSULTATION, consultation.patient, consultation)
        return Response(ConsultationSerializer(consultation, context={"request": request}).data)


class ConsultationInvite(APIView):
    """The consultation as an iCalendar invite: REQUEST, or CANCEL once cancelled."""

    permission_classes = [permissions.IsAuthenticated, IsStationStaffOrDoctor]

    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.STR, 404: ERROR})
    def get(self, request, pk):
        consultation = get_consultation_for(request.user, pk)
        record_access(request, AuditEntry.Action.VIEW_CONSULTATION, consultation.patient, consultation)
        method, body = build_invite(calendar_events.consultation_event(consultation))
        response = HttpResponse(body, content_type=f"text/calendar; charset=utf-8; method={method}")
        response["Content-Disposition"] = f'attachment; filename="consultation-{consultation.pk}.ics"'
        return response


class ConsultationReschedule(APIView):
    permission_classes = [permissions.IsAuthenticated, IsStationStaffOrDoctor]

    @extend_schema(request=RescheduleSerializer, responses={200: ConsultationSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request, pk):
        consultation = get_consultation_for(request.user, pk)
        form = RescheduleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        consultation = actions.reschedule_consultation(
            consultation=consultation, start=form.validated_data["start"], by=request.user
        )
        return Response(ConsultationSerializer(consultation, context={"request": request}).data)


class ConsultationCancel(APIView):
    permission_classes = [permissions.IsAuthenticated, IsStationStaffOrDoctor]

    @extend_schema(request=CancelSerializer, responses={200: ConsultationSerializer, 403: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request, pk):
        consultation = get_consultation_for(request.user, pk)
        form = CancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        consultation = actions.cancel_consultation(
            consultation=consultation, by=request.user, reason=form.validated_data["reason"]
        )
        return Response(ConsultationSerializer(consultation, context={"request": request}).data)


class ConsultationClose(APIView):
    """Completed or no-show, recorded by the doctor or the station once it has started."""

    permission_classes = [permissions.IsAuthenticated, IsStationStaffOrDoctor]
    closing_status = None

    @extend_schema(request=None, responses={200: ConsultationSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request, pk):
        consultation = get_consultation_for(request.user, pk)
        consultation = actions.close_consultation(consultation=consultation, by=request.user, status=self.closing_status)
        return Response(ConsultationSerializer(consultation, context={"request": request}).data)
