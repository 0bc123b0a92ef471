from django.urls import path

from consults.notes import api

base = "consultations/<str:id>/notes/"

urlpatterns = [
    path("icd10/", api.Icd10View.as_view(), name="notes-icd10"),
    path(base, api.NotesView.as_view(), name="notes"),
    path(f"{base}chat/", api.ChatView.as_view(), name="notes-chat"),
    path(f"{base}attachments/", api.AttachmentListView.as_view(), name="notes-attachments"),
    path(
        f"{base}attachments/<str:attachment_id>/",
        api.AttachmentDownloadView.as_view(),
        name="notes-attachment",
    ),
    path(
        f"{base}attachments/<str:attachment_id>/thumbnail/",
        api.AttachmentThumbnailView.as_view(),
        name="notes-attachment-thumbnail",
    ),
    path(f"{base}report/", api.ReportView.as_view(), name="notes-report"),
    path(f"{base}report/sign/", api.ReportSignView.as_view(), name="notes-report-sign"),
    path(f"{base}report/pdf/", api.ReportPdfView.as_view(), name="notes-report-pdf"),
    path(f"{base}report/addenda/", api.AddendumView.as_view(), name="notes-addenda"),
    path(f"{base}submit/", api.AsyncSubmitView.as_view(), name="notes-submit"),
    path(f"{base}<str:section>/", api.NoteSectionView.as_view(), name="notes-section"),
    path(f"{base}<str:section>/history/", api.NoteHistoryView.as_view(), name="notes-history"),
]
