from django.urls import include, path

app_name = "delivery"

urlpatterns = [
    path("", include("zhili.delivery.urls_registry")),
    path("outlet/", include("zhili.delivery.urls_outlet")),
    path("supervision/", include("zhili.delivery.urls_supervision")),
    path("video/", include("zhili.delivery.urls_video")),
]
