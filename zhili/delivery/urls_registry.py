"""The registry's pages (included at the root of the "delivery" namespace)."""

from django.urls import path

from zhili.delivery import views_registry as views

urlpatterns = [
    path("companies/", views.CompanyListView.as_view(), name="companies"),
    path("companies/new/", views.CompanyCreateView.as_view(), name="company_create"),
    path("companies/<int:pk>/", views.CompanyDetailView.as_view(), name="company"),
    path("companies/<int:pk>/edit/", views.CompanyEditView.as_view(), name="company_edit"),
    path("companies/<int:pk>/active/", views.CompanyActiveView.as_view(),
         name="company_active"),
    path("outlets/", views.OutletListView.as_view(), name="outlets"),
    path("outlets/new/", views.OutletCreateView.as_view(), name="outlet_create"),
    path("outlets/<int:pk>/", views.OutletDetailView.as_view(), name="outlet"),
    path("outlets/<int:pk>/edit/", views.OutletEditView.as_view(), name="outlet_edit"),
    path("outlets/<int:pk>/active/", views.OutletActiveView.as_view(), name="outlet_active"),
    path("staff/", views.StaffListView.as_view(), name="staff"),
    path("staff/new/", views.StaffCreateView.as_view(), name="staff_create"),
    path("staff/<int:pk>/edit/", views.StaffEditView.as_view(), name="staff_edit"),
    path("staff/<int:pk>/active/", views.StaffActiveView.as_view(), name="staff_active"),
    path("import/outlets/", views.OutletImportView.as_view(), name="import_outlets"),
    path("import/outlets/template/", views.OutletTemplateView.as_view(),
         name="import_outlets_template"),
    path("import/staff/", views.StaffImportView.as_view(), name="import_staff"),
    path("import/staff/template/", views.StaffTemplateView.as_view(),
         name="import_staff_template"),
    path("import/devices/", views.DeviceImportView.as_view(), name="import_devices"),
    path("import/devices/template/", views.DeviceTemplateView.as_view(),
         name="import_devices_template"),
    path("import/jobs/<int:pk>/", views.ImportJobView.as_view(), name="import_job"),
    path("import/jobs/<int:pk>/confirm/", views.ImportConfirmView.as_view(),
         name="import_confirm"),
]
