"""Users, positions, roles and API keys over the API."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from zhili.accounts import services
from zhili.accounts.models import ApiKey, Position, Role, User
from zhili.areas.models import Area
from zhili.core.api import SELF, RouteScope, ScopedRouter
from zhili.core.api_routes import PositionOut, position_out
from zhili.core.services import field_error
from zhili.orgs.models import Organisation

router = ScopedRouter(tags=["accounts"])


class RoleOut(Schema):
    code: str
    name: str
    scope_kind: str

    @staticmethod
    def resolve_name(obj):
        return str(obj)


@router.get("/roles", scope=SELF, response=list[RoleOut], summary="The roles")
def list_roles(request):
    return list(Role.objects.all())


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    is_active: bool
    last_login: dt.datetime | None
    positions: list[PositionOut]


def user_out(user: User, positions: list[Position]) -> dict:
    return {"id": user.pk, "username": user.username, "display_name": user.display_name,
            "email": user.email, "is_active": user.is_active, "last_login": user.last_login,
            "positions": [position_out(p) for p in positions]}


def _with_positions(users: list[User]) -> list[dict]:
    positions: dict[int, list[Position]] = {}
    for position in Position.objects.active().filter(user__in=users).select_related(
            "role", "area", "org"):
        positions.setdefault(position.user_id, []).append(position)
    return [user_out(u, positions.get(u.pk, [])) for u in users]


class UserPage(Schema):
    count: int
    items: list[UserOut]


class UserFilter(Schema):
    q: str | None = None
    role: str | None = None
    include_inactive: bool = False
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("/users", scope=RouteScope(User, "view"), response=UserPage,
            summary="Users holding a position in my reach")
def list_users(request, filters: Query[UserFilter]):
    qs = User.objects.restrict(request.auth).people()
    if filters.q:
        qs = qs.filter(Q(username__icontains=filters.q) | Q(display_name__icontains=filters.q))
    if filters.role:
        qs = qs.filter(holds_role(filters.role))
    if not filters.include_inactive:
        qs = qs.filter(is_active=True)
    qs = qs.order_by("username")
    users = list(qs[filters.offset: filters.offset + filters.limit])
    return {"count": qs.count(), "items": _with_positions(users)}


def holds_role(code: str):
    return Exists(Position.objects.active().filter(user_id=OuterRef("pk"), role__code=code))


@router.get("/users/{int:pk}", scope=RouteScope(User, "view", lookup="pk"), response=UserOut,
            summary="One user")
def get_user(request, pk: int):
    return _with_positions([request.scoped_object])[0]


def _area(request, pk: int | None, field: str) -> Area | None:
    if pk is None:
        return None
    area = Area.objects.restrict(request.auth).filter(pk=pk).first()
    if area is None:
        raise field_error(field, _("No such area within your reach."))
    return area


def _org(request, pk: int | None, field: str) -> Organisation | None:
    if pk is None:
        return None
    org = Organisation.objects.restrict(request.auth).filter(pk=pk).first()
    if org is None:
        raise field_error(field, _("No such organisation within your reach."))
    return org


def _role(code: str) -> Role:
    role = Role.objects.filter(code=code).first()
    if role is None:
        raise field_error("role", _("Unknown role %(code)s.") % {"code": code})
    return role


class PositionIn(Schema):
    role: str
    area_id: int
    org_id: int | None = None
    title: str = Field("", max_length=60)


class UserIn(PositionIn):
    username: str = Field(max_length=150)
    password: str
    display_name: str = Field("", max_length=60)
    email: str = Field("", max_length=254)


@router.post("/users", scope=RouteScope(User, "add", requires=((Position, "add"),)),
             response={201: UserOut}, summary="Create a user with a first position")
def create_user(request, payload: UserIn):
    user = services.create_user(
        actor=request.auth, username=payload.username, password=payload.password,
        display_name=payload.display_name, email=payload.email, role=_role(payload.role),
        area=_area(request, payload.area_id, "area_id"),
        org=_org(request, payload.org_id, "org_id"), title=payload.title,
    )
    return Status(201, _with_positions([user])[0])


class UserPatch(Schema):
    display_name: str | None = Field(None, max_length=60)
    email: str | None = Field(None, max_length=254)
    is_active: bool | None = None
    password: str | None = None


@router.patch("/users/{int:pk}", scope=RouteScope(User, "change", lookup="pk"),
              response=UserOut, summary="Change a user (name, email, active, password)")
def update_user(request, pk: int, payload: UserPatch):
    user = request.scoped_object
    services.update_user(actor=request.auth, user=user, display_name=payload.display_name,
                         email=payload.email)
    if payload.is_active is not None:
        services.set_user_active(actor=request.auth, user=user, active=payload.is_active)
    if payload.password:
        services.reset_password(actor=request.auth, user=user, password=payload.password)
    return _with_positions([user])[0]


@router.post("/users/{int:pk}/positions",
             scope=RouteScope(User, "view", lookup="pk", requires=((Position, "add"),)),
             response={201: PositionOut}, summary="Grant a user another position")
def grant_position(request, pk: int, payload: PositionIn):
    position = services.grant_position(
        actor=request.auth, user=request.scoped_object, role=_role(payload.role),
        area=_area(request, payload.area_id, "area_id"),
        org=_org(request, payload.org_id, "org_id"), title=payload.title,
    )
    return Status(201, position_out(position))


@router.post("/positions/{int:pk}/end", scope=RouteScope(Position, "change", lookup="pk"),
             response=PositionOut, summary="End a position")
def end_position(request, pk: int):
    return position_out(services.end_position(actor=request.auth,
                                              position=request.scoped_object))


class ApiKeyOut(Schema):
    id: int
    name: str
    org_id: int
    role: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None



def api_key_out(key: ApiKey) -> dict:
    return {"id": key.pk, "name": key.name, "org_id": key.org_id, "role": key.role.code,
            "prefix": key.prefix, "created_at": key.created_at, "last_used_at": key.last_used_at,
            "revoked_at": key.revoked_at}


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="Shown only in this response; store it now")


class ApiKeyIn(Schema):
    org_id: int
    name: str = Field(max_length=100)


@router.get("/api-keys", scope=RouteScope(ApiKey, "view"), response=list[ApiKeyOut],
            summary="API keys of organisations in my reach")
def list_api_keys(request, org_id: int | None = None):
    qs = ApiKey.objects.restrict(request.auth).select_related("role")
    if org_id:
        qs = qs.filter(org_id=org_id)
    return [api_key_out(key) for key in qs[:500]]


@router.post("/api-keys", scope=RouteScope(ApiKey, "add"), response={201: ApiKeyCreated},
             summary="Create an API key (the key is shown once)")
def create_api_key(request, payload: ApiKeyIn):
    key, raw = services.create_api_key(actor=request.auth,
                                       org=_org(request, payload.org_id, "org_id"),
                                       name=payload.name)
    return Status(201, {**api_key_out(key), "key": raw})


@router.post("/api-keys/{int:pk}/revoke", scope=RouteScope(ApiKey, "change", lookup="pk"),
             response=ApiKeyOut, summary="Revoke an API key")
def revoke_api_key(request, pk: int):
    return api_key_out(services.revoke_api_key(actor=request.auth, key=request.scoped_object))
