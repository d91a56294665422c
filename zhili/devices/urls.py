from django.urls import path

from zhili.devices import views

app_name = "devices"

urlpatterns = [
    path("", views.DeviceListView.as_view(), name="list"),
    path("new/", views.DeviceCreateView.as_view(), name="create"),
    path("<int:pk>/", views.DeviceDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.DeviceEditView.as_view(), name="edit"),
    path("<int:pk>/status/", views.DeviceStatusView.as_view(), name="status"),
]
