from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from zhili.accounts.api import router as accounts_router
from zhili.areas.api import router as areas_router
from zhili.core.api import build_api
from zhili.core.api_routes import router as core_router
from zhili.core.ui import HealthView, MetricsView, ReadyView
from zhili.delivery.api import router as delivery_router
from zhili.devices.api import router as devices_router
from zhili.disputes.api import router as disputes_router
from zhili.events.api import router as events_router
from zhili.orgs.api import router as orgs_router
from zhili.people.api import router as people_router
from zhili.people.imports.api import router as people_bulk_router
from zhili.special.api import router as special_router

api = build_api()
api.add_router("/", core_router)
api.add_router("/areas", areas_router)
api.add_router("/orgs", orgs_router)
api.add_router("/accounts", accounts_router)
api.add_router("/events", events_router)
api.add_router("/people", people_router)
api.add_router("/people/bulk", people_bulk_router)
api.add_router("/special", special_router)
api.add_router("/disputes", disputes_router)
api.add_router("/delivery", delivery_router)
api.add_router("/devices", devices_router)

urlpatterns = [
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("zhili.accounts.urls")),
    path("areas/", include("zhili.areas.urls")),
    path("orgs/", include("zhili.orgs.urls")),
    path("events/", include("zhili.events.urls")),
    path("people/", include("zhili.people.urls")),
    path("special/", include("zhili.special.urls")),
    path("disputes/", include("zhili.disputes.urls")),
    path("delivery/", include("zhili.delivery.urls")),
    path("devices/", include("zhili.devices.urls")),
    path("open311/v2/", include("zhili.events.urls_open311")),
    path("notifications/", include("zhili.core.urls_notifications")),
    path("workdays/", include("zhili.workdays.urls")),
    path("", include("zhili.core.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
