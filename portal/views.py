"""The home page: each role goes to its own app's page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


@login_required
def home(request):
    user = request.user
    # Consultations' side: station staff and doctors.
    if hasattr(user, "station_staff"):
        return redirect("telecare:station")
    if hasattr(user, "doctor"):
        return redirect("telecare:doctor")
    # The lessons' side: teachers, pupils, learning-point devices, school staff.
    if hasattr(user, "teacher"):
        return redirect("classrooms:teacher")
    if hasattr(user, "pupil") or hasattr(user, "learning_point"):
        return redirect("classrooms:pupil")
    if user.schools.exists():
        return redirect("classrooms:school")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "portal/no_role.html")
