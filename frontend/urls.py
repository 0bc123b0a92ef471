from django.urls import path

from frontend import (
    views,
    views_account,
    views_agenda,
    views_booking,
    views_dashboard,
    views_notes,
    views_patients,
    views_report,
    views_room,
    views_scheduling,
    views_scheduling_hospital,
    views_waitlist,
)

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views_account.login_code, name="login-code"),
    path("logout/", views.logout_view, name="logout"),
    path("account/", views_account.account, name="account"),
    path("account/two-factor/", views_account.enrol, name="enrol"),
    path("patients/", views_patients.patients, name="patients"),
    path("patients/<str:id>/", views_patients.patient_detail, name="patient"),
    path("patients/<str:id>/edit/", views_patients.patient_edit, name="patient-edit"),
    path("book/", views_booking.book, name="book"),
    path("book/confirm/", views_booking.book_confirm, name="book-confirm"),
    path("agenda/", views_agenda.agenda, name="agenda"),
    path("agenda/check-in/", views_agenda.check_in, name="check-in"),
    path("agenda/<str:id>/change/", views_agenda.consult_change, name="consult-change"),
    path("requests/file/", views_scheduling.request_file, name="request-file"),
    path("requests/answer/", views_scheduling.request_answer, name="request-answer"),
    path("agenda/waitlist/take/", views_waitlist.waitlist_take_page, name="waitlist-take"),
    path("availability/", views_scheduling_hospital.availability_page, name="availability"),
    path("triage/", views_scheduling_hospital.triage_page, name="triage"),
    path("room/precall/", views_room.precall, name="room-precall"),
    path("room/waiting/", views_room.waiting, name="room-waiting"),
    path("room/guest/<str:token>/", views_room.guest, name="room-guest"),
    path("room/<str:id>/prejoin/", views_room.prejoin, name="room-prejoin"),
    path("room/<str:id>/", views_room.room, name="room"),
    path("consultations/<str:id>/notes/", views_notes.notes_page, name="notes"),
    path("consultations/<str:id>/report/", views_report.report_page, name="report"),
    path("consultations/<str:id>/report/sign/", views_report.sign_page, name="report-sign"),
    path("dashboard/", views_dashboard.dashboard_page, name="dashboard"),
]
