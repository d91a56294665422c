# Included by zhili/delivery/urls.py under "supervision/" (in the "delivery" namespace).
from django.urls import path

from zhili.delivery import views_supervision as v

urlpatterns = [
    path("", v.ComplianceView.as_view(), name="compliance"),
    path("compliance.xlsx", v.ComplianceExportView.as_view(), name="compliance_export"),
    path("outlets/<int:pk>/", v.OutletSupervisionView.as_view(), name="outlet_supervision"),
    path("outlets/<int:pk>/order/", v.IssueOrderView.as_view(), name="order_issue"),
    path("outlets/<int:pk>/spot-check/", v.SpotCheckStartView.as_view(),
         name="spot_check_start"),
    path("outlets/<int:pk>/penalty/", v.PenaltyCreateView.as_view(), name="penalty_create"),
    path("orders/", v.OrderListView.as_view(), name="orders"),
    path("orders/<int:pk>/", v.OrderDetailView.as_view(), name="order"),
    path("orders/<int:pk>/act/<slug:action>/", v.OrderActionView.as_view(), name="order_act"),
    path("orders/<int:pk>/answer/", v.OrderAnswerView.as_view(), name="order_answer"),
    path("orders/<int:pk>/notice/<slug:fmt>/", v.OrderDocumentView.as_view(),
         name="order_document"),
    path("orders/<int:pk>/file/", v.OrderFileView.as_view(), name="order_file"),
    path("spot-checks/", v.SpotCheckListView.as_view(), name="spot_checks"),
    path("spot-checks/<int:pk>/", v.SpotCheckDetailView.as_view(), name="spot_check"),
    path("spot-checks/<int:pk>/record/", v.SpotCheckRecordView.as_view(),
         name="spot_check_record"),
    path("spot-checks/<int:pk>/file/", v.SpotCheckFileView.as_view(), name="spot_check_file"),
    path("penalties/", v.PenaltyListView.as_view(), name="penalties"),
]
