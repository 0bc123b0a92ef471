"""Foundation pages: login/logout and home by role (patients: frontend/views_patients.py).

Pages read through the same selectors and access functions as the API, and write
through the same services.
"""

from datetime import timedelta

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinics.access import (
    station_ids_of,
)
from clinics.audit import Via, audit_patients_read
from clinics.login import login_check
from clinics.selectors import user_roles
from consults.access import consultations_visible_to
from consults.dashboard.access import can_see_dashboard
from frontend.pages import page_user
from frontend.views_account import login_continue
from frontend.views_agenda import agenda_rows, alerts_on
from telehealth.errors import AppError

PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        try:
            user = login_check(request, username=username, password=password)
        except AppError as exc:
            error = str(exc.message)
        else:
            target = request.POST.get("next") or request.GET.get("next") or "/"
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = "/"
            return login_continue(request, user, target)
    status = 400 if error else 200
    return render(
        request,
        "frontend/login.html",
        {"error": error, "username": username, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("frontend:login")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    if station_ids_of(user):
        return redirect("frontend:patients")
    consults = list(
        consultations_visible_to(user)
        .filter(start__gte=timezone.now() - timedelta(hours=12))
        .order_by("start")[:50]
    )
    audit_patients_read(actor=user, patients={c.patient for c in consults}, via=Via.http(request))
    return render(
        request,
        "frontend/home.html",
        {
            "roles": user_roles(user),
            "consultations": consults,
            "rows": agenda_rows(user, consults, timezone.localdate()),
            "alerts": alerts_on(user),
            "show_dashboard": can_see_dashboard(user),
        },
    )
