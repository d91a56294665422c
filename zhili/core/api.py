"""The API base: one NinjaAPI, one error shape, and routers that cannot skip scoping.

Every operation is registered through `ScopedRouter` with a `RouteScope`: the model and action
it needs, and for object routes the path parameter naming the object. The guard runs *before*
the request body is validated: it authenticates (session with CSRF, or an API key), then
answers 404 for an object out of scope and 403 for a missing permission — so no operation can
forget, and the permission battery (tests) can walk every route from this registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader
from ninja.utils import check_csrf

from zhili.core.scoping import access, require
from zhili.core.services import ServiceError


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


ERROR_RESPONSES = dict.fromkeys((400, 401, 403, 404, 409, 422), ErrorOut)


@dataclass(frozen=True)
class RouteScope:
    """What an operation needs. `model=None` with `public=True`: no sign-in; `model=None`
    otherwise: any signed-in principal, acting on itself."""

    model: type[models.Model] | None = None
    action: str = "view"
    lookup: str | None = None
    public: bool = False
    # Further (model, action) permissions needed, e.g. to grant a position on a user's page.
    requires: tuple[tuple[type[models.Model], str], ...] = ()
    # Example values of other path parameters, for the permission battery (e.g. an action),
    # and the permissions that example needs beyond the route's own (its service checks them).
    params: tuple[tuple[str, str], ...] = ()
    example_requires: tuple[tuple[type[models.Model], str], ...] = ()

    def enforce(self, user, path_kwargs: dict):
        """404 for an object out of scope, 403 for a missing permission; returns the object."""
        obj = None
        if self.model is not None:
            if self.lookup:
                obj = access(user, self.model, path_kwargs.get(self.lookup), self.action)
            else:
                require(user, self.model, self.action)
        for model, action in self.requires:
            require(user, model, action)
        return obj


PUBLIC = RouteScope(public=True)
SELF = RouteScope()


class ScopeGuard(APIKeyHeader):
    """Authenticate (session or API key), then enforce the operation's RouteScope."""

    param_name = "X-API-Key"

    def __init__(self, spec: RouteScope):
        super().__init__()
        self.spec = spec

    def __call__(self, request):
        if self.spec.public:
            return True
        user = self._principal(request)
        if user is None:
            return None
        request.scoped_object = self.spec.enforce(user, request.resolver_match.kwargs or {})
        return user

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the work
        return None

    def _principal(self, request):
        from zhili.accounts.services import ApiKeyRefused, authenticate_api_key

        header = request.headers.get("X-API-Key") or ""
        bearer = request.headers.get("Authorization", "")
        if not header and bearer.lower().startswith("bearer "):
            header = bearer[7:]
        if header:
            try:
                user = authenticate_api_key(header)
            except ApiKeyRefused as exc:
                raise AuthenticationError(message=exc.message) from None
            request.user = user
            return user
        if request.user.is_authenticated:
            if request.method not in ("GET", "HEAD", "OPTIONS") and check_csrf(request):
                raise HttpError(403, _("CSRF check failed: reload the page and try again."))
            return request.user
        return None


class ScopedRouter(Router):
    """A Router whose operations must declare a RouteScope (see module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scoped_operations: list[tuple[list[str], str, RouteScope]] = []

    def _scoped(self, methods: list[str], path: str, scope: RouteScope, kwargs: dict):
        if not isinstance(scope, RouteScope):
            raise TypeError(f"{methods} {path}: every API operation declares a RouteScope")
        response = kwargs.pop("response")
        responses = {**ERROR_RESPONSES, **(response if isinstance(response, dict)
                                           else {200: response})}
        self.scoped_operations.append((methods, path, scope))

        def decorator(view_func):
            view_func.route_scope = scope
            self.add_api_operation(path, methods, view_func, auth=[ScopeGuard(scope)],
                                   response=responses, **kwargs)
            return view_func

        return decorator

    def get(self, path, *, scope: RouteScope, **kwargs):
        return self._scoped(["GET"], path, scope, kwargs)

    def post(self, path, *, scope: RouteScope, **kwargs):
        return self._scoped(["POST"], path, scope, kwargs)

    def patch(self, path, *, scope: RouteScope, **kwargs):
        return self._scoped(["PATCH"], path, scope, kwargs)

    def put(self, path, *, scope: RouteScope, **kwargs):
        return self._scoped(["PUT"], path, scope, kwargs)

    def delete(self, path, *, scope: RouteScope, **kwargs):
        return self._scoped(["DELETE"], path, scope, kwargs)


def _error(api, request, status: int, code: str, message: str, fields=None):
    return api.create_response(
        request, {"code": code, "message": str(message), "fields": fields or {}}, status=status
    )


def _validation_fields(errors: list[dict]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "payload",
                                                                            "query", "path")]
        fields.setdefault(".".join(loc) or "__all__", []).append(error.get("msg", "invalid"))
    return fields


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Zhili API",
        version="1",
        description=_("Municipal social-governance platform. Sign in with a browser session or "
                      "send an API key in the X-API-Key header."),
        urls_namespace="api",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )

    @api.exception_handler(ServiceError)
    def service_error(request, exc: ServiceError):
        return _error(api, request, exc.status, exc.code, exc.message, exc.field_messages)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields = _validation_fields(exc.errors)
        return _error(api, request, 422, "invalid", _("Some fields are not valid."), fields)

    @api.exception_handler(AuthenticationError)
    def auth_error(request, exc: AuthenticationError):
        message = exc.message if exc.message != "Unauthorized" else _(
            "Sign in, or send a valid API key in the X-API-Key header.")
        return _error(api, request, 401, "unauthenticated", message)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = {400: "bad_request", 403: "forbidden", 404: "not_found",
                429: "throttled"}.get(exc.status_code, "error")
        return _error(api, request, exc.status_code, code, exc.message)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return _error(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return _error(api, request, 403, "forbidden",
                      _("Your current position does not allow this action."))

    return api
