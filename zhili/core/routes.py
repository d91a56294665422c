"""Every registered route with its RouteScope: used by the system check and by the permission
battery in the tests, so routes added by any module are covered without listing them by hand."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from zhili.core.api import RouteScope


@dataclass(frozen=True)
class Route:
    kind: str  # "ui" or "api"
    path: str  # a pattern with <name> placeholders
    name: str
    methods: tuple[str, ...]
    scope: RouteScope | None
    view: object


def _join(prefix: str, pattern) -> str:
    return prefix + str(pattern.pattern).lstrip("^").rstrip("$")


def ui_routes() -> list[Route]:
    """Zhili's own page routes (admin, static and the API are walked elsewhere or skipped)."""
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = entry.namespace or ""
                walk(entry.url_patterns, _join(prefix, entry),
                     f"{namespace}:{ns}" if namespace and ns else ns or namespace)
                continue
            if not isinstance(entry, URLPattern):
                continue
            callback = entry.callback
            view_class = getattr(callback, "view_class", None)
            module = getattr(view_class or callback, "__module__", "")
            if not module.startswith("zhili."):
                continue
            if view_class is not None:
                methods = tuple(m.upper() for m in view_class.http_method_names
                                if m not in ("options", "head") and hasattr(view_class, m))
                scope = getattr(view_class, "route_scope", None)
            else:
                methods = tuple(getattr(callback, "route_methods", ("GET",)))
                scope = getattr(callback, "route_scope", None)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            found.append(Route("ui", "/" + _join(prefix, entry), name, methods, scope,
                               view_class or callback))

    walk(get_resolver().url_patterns, "", "")
    return found


def api_routes() -> list[Route]:
    from zhili.config.urls import api

    found = []
    for prefix, router in api._routers:
        for methods, path, scope in getattr(router, "scoped_operations", []):
            full = "/api/v1/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
            full = full.replace("{", "<").replace("}", ">")
            found.append(Route("api", full, full, tuple(methods), scope, router))
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                if not hasattr(operation.view_func, "route_scope"):
                    found.append(Route("api", path, operation.view_func.__name__,
                                       tuple(operation.methods), None, router))
    return found


def all_routes() -> list[Route]:
    return ui_routes() + api_routes()
