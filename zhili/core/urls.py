from django.urls import path

from zhili.core import ui, unmask_views

app_name = "core"

urlpatterns = [
    path("", ui.HomeView.as_view(), name="home"),
    path("jobs/", ui.JobListView.as_view(), name="jobs"),
    path("jobs/<int:pk>/", ui.JobDetailView.as_view(), name="job_detail"),
    path("jobs/<int:pk>/download/", ui.JobDownloadView.as_view(), name="job_download"),
    path("audit/", ui.AuditListView.as_view(), name="audit"),
    path("audit/<int:pk>/", ui.AuditDetailView.as_view(), name="audit_detail"),
    path("pii/unmask/<str:app_label>/<str:model_name>/<str:pk>/",
         unmask_views.UnmaskView.as_view(), name="unmask"),
]
