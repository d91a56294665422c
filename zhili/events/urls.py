from django.urls import path

from zhili.events import views

app_name = "events"

urlpatterns = [
    path("", views.InboxView.as_view(), name="inbox"),
    path("new/", views.ReportView.as_view(), name="report"),
    path("m/", views.MobileView.as_view(), name="mobile"),
    path("m/manifest.json", views.ManifestView.as_view(), name="manifest"),
    path("m/sw.js", views.ServiceWorkerView.as_view(), name="sw"),
    path("stats/", views.StatsView.as_view(), name="stats"),
    path("export/", views.ExportView.as_view(), name="export"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("routing/", views.RoutingListView.as_view(), name="routing"),
    path("routing/new/", views.RoutingCreateView.as_view(), name="routing_create"),
    path("routing/<int:pk>/", views.RoutingEditView.as_view(), name="routing_edit"),
    path("routing/<int:pk>/delete/", views.RoutingDeleteView.as_view(), name="routing_delete"),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("categories/new/", views.CategoryCreateView.as_view(), name="category_create"),
    path("categories/<int:pk>/", views.CategoryEditView.as_view(), name="category_edit"),
    path("limits/new/", views.LimitCreateView.as_view(), name="limit_create"),
    path("limits/<int:pk>/", views.LimitEditView.as_view(), name="limit_edit"),
    path("limits/<int:pk>/delete/", views.LimitDeleteView.as_view(), name="limit_delete"),
    path("photos/<int:pk>/", views.PhotoView.as_view(), name="photo"),
    path("<int:pk>/", views.EventDetailView.as_view(), name="detail"),
    path("<int:pk>/act/<slug:action>/", views.EventActionView.as_view(), name="act"),
]
