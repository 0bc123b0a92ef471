from django.urls import path

from frontend import views, views_notes

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("patients/", views.patients, name="patients"),
    path("patients/<str:id>/", views.patient_detail, name="patient"),
    path("consultations/<str:id>/notes/", views_notes.notes_page, name="notes"),
    path("consultations/<str:id>/report/", views_notes.report_page, name="report"),
]
