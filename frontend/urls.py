from django.urls import path

from frontend import views, views_room

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("patients/", views.patients, name="patients"),
    path("patients/<str:id>/", views.patient_detail, name="patient"),
    path("room/precall/", views_room.precall, name="room-precall"),
    path("room/waiting/", views_room.waiting, name="room-waiting"),
    path("room/guest/<str:token>/", views_room.guest, name="room-guest"),
    path("room/<str:id>/", views_room.room, name="room"),
]
