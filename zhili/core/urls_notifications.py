from django.urls import path

from zhili.core import ui

app_name = "notifications"

urlpatterns = [
    path("", ui.NotificationListView.as_view(), name="list"),
    path("<int:pk>/open/", ui.NotificationOpenView.as_view(), name="open"),
    path("read-all/", ui.NotificationReadAllView.as_view(), name="read_all"),
]
