"""URLs for the import tests: the project's, plus the bulk API router mounted as the project
mounts it (/api/v1/people/bulk) in case the project's URLconf does not include it yet."""

from django.urls import path

from zhili.config import urls as project
from zhili.core.api import build_api
from zhili.people.imports.api import router

mounted = any(r is router for _prefix, r in project.api._routers)
if mounted:
    urlpatterns = project.urlpatterns
else:
    api = build_api()
    api.urls_namespace = "api-people-bulk"
    api.add_router("/people/bulk", router)
    urlpatterns = [path("api/v1/", api.urls), *project.urlpatterns]
