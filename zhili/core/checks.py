from django.core import checks

from zhili.core.api import RouteScope


@checks.register(checks.Tags.security)
def every_route_is_scoped(app_configs, **kwargs):
    """A page or API operation without a declared RouteScope would escape the permission
    battery and possibly the scoping: refuse to start."""
    from zhili.core.routes import all_routes

    errors = []
    for route in all_routes():
        if not isinstance(route.scope, RouteScope):
            errors.append(checks.Error(
                f"{route.kind} route {route.path} ({route.name}) declares no RouteScope",
                hint="Use a zhili.core.views base view or a ScopedRouter operation.",
                id="zhili.E001",
            ))
    return errors
