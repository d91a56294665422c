from django.urls import path

from zhili.areas import views

app_name = "areas"

urlpatterns = [
    path("", views.AreaTreeView.as_view(), name="tree"),
    path("import/", views.AreaImportView.as_view(), name="import"),
    path("export/", views.AreaExportView.as_view(), name="export"),
    path("template/", views.AreaTemplateView.as_view(), name="template"),
    path("<int:pk>/", views.AreaDetailView.as_view(), name="detail"),
    path("<int:pk>/children/", views.AreaChildrenView.as_view(), name="children"),
    path("<int:pk>/add/", views.AreaCreateView.as_view(), name="add"),
    path("<int:pk>/edit/", views.AreaEditView.as_view(), name="edit"),
    path("<int:pk>/merge/", views.AreaMergeView.as_view(), name="merge"),
    path("<int:pk>/retire/", views.AreaRetireView.as_view(), name="retire"),
    path("<int:pk>/recode/", views.AreaRecodeView.as_view(), name="recode"),
    path("<int:pk>/split/", views.AreaSplitView.as_view(), name="split"),
]
