from django.urls import include, path

from zhili.disputes import views, views_registry

app_name = "disputes"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="list"),
    path("new/", views.RegisterView.as_view(), name="register"),
    path("<int:pk>/", views.DisputeDetailView.as_view(), name="detail"),
    path("<int:pk>/act/<slug:action>/", views.DisputeActionView.as_view(), name="act"),
    path("<int:pk>/agreement/<slug:fmt>/", views.AgreementDownloadView.as_view(),
         name="agreement"),
    path("files/<int:pk>/", views.CaseFileView.as_view(), name="file"),
    path("alerts/", views.AlertListView.as_view(), name="alerts"),
    path("alerts/<int:pk>/handle/", views.AlertHandleView.as_view(), name="alert_handle"),
    path("bodies/", views_registry.BodyListView.as_view(), name="bodies"),
    path("bodies/new/", views_registry.BodyCreateView.as_view(), name="body_create"),
    path("bodies/<int:pk>/", views_registry.BodyDetailView.as_view(), name="body"),
    path("bodies/<int:pk>/edit/", views_registry.BodyEditView.as_view(), name="body_edit"),
    path("bodies/<int:pk>/mediators/new/", views_registry.MediatorCreateView.as_view(),
         name="mediator_create"),
    path("bodies/<int:pk>/template/", views_registry.TemplateUploadView.as_view(),
         name="body_template"),
    path("bodies/<int:pk>/template.docx", views_registry.TemplateDownloadView.as_view(),
         name="body_template_download"),
    path("mediators/<int:pk>/", views_registry.MediatorEditView.as_view(),
         name="mediator_edit"),
    path("stats/", include("zhili.disputes.urls_stats")),
]
