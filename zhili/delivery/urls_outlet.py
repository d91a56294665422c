"""The outlet's phone pages (included at "outlet/" in the "delivery" namespace)."""

from django.urls import path

from zhili.delivery import views_outlet as views

urlpatterns = [
    path("", views.OutletHomeView.as_view(), name="outlet_home"),
    path("lookup/", views.LookupView.as_view(), name="lookup"),
    path("inspect/", views.InspectView.as_view(), name="inspect"),
    path("manifest.json", views.OutletManifestView.as_view(), name="outlet_manifest"),
    path("sw.js", views.OutletServiceWorkerView.as_view(), name="outlet_sw"),
]
