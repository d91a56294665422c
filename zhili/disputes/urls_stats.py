# Included by zhili/disputes/urls.py under "stats/" (in the "disputes" namespace).
from django.urls import path

from zhili.disputes import views_stats

urlpatterns = [
    path("", views_stats.StatsView.as_view(), name="stats"),
    path("export/", views_stats.StatsExportView.as_view(), name="stats_export"),
]
