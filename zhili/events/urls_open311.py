from django.urls import re_path

from zhili.events import open311

app_name = "open311"
FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^services" + FMT, open311.ServicesView.as_view(), name="services"),
    re_path(r"^services/(?P<code>[-\w]+)" + FMT, open311.ServiceDefinitionView.as_view(),
            name="service"),
    re_path(r"^requests" + FMT, open311.RequestsView.as_view(), name="requests"),
    re_path(r"^requests/(?P<number>[-\w]+)" + FMT, open311.RequestView.as_view(),
            name="request"),
    re_path(r"^tokens/(?P<token>[-\w]+)" + FMT, open311.TokenView.as_view(), name="token"),
]
