from django.urls import path

from clinics import api

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("auth/tokens/", api.TokenListView.as_view(), name="api-tokens"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("facilities/", api.FacilityList.as_view(), name="api-facility-list"),
    path("facilities/<str:id>/", api.FacilityDetail.as_view(), name="api-facility-detail"),
    path("specialties/", api.SpecialtyList.as_view(), name="api-specialty-list"),
    path("specialists/", api.SpecialistList.as_view(), name="api-specialist-list"),
    path("patients/", api.PatientList.as_view(), name="api-patient-list"),
    path("patients/<str:id>/", api.PatientDetail.as_view(), name="api-patient-detail"),
    path("patients/<str:id>/consents/", api.ConsentList.as_view(), name="api-consent-list"),
]
