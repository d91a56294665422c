from django.urls import path

from zhili.workdays import views

app_name = "workdays"

urlpatterns = [
    path("", views.CalendarView.as_view(), name="calendar"),
    path("set/", views.DaySetView.as_view(), name="set"),
    path("<int:pk>/edit/", views.DayEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.DayDeleteView.as_view(), name="delete"),
]
