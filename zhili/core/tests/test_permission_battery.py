"""The permission battery: every registered UI and API route, every persona.

Expectations come from the route's declared RouteScope, the persona's role permissions read
straight from the database, and where each object was placed in the tree (by parent chains).
For an object route: out of reach → 404, in reach without the permission → 403, otherwise the
route must not deny access. For a list route: no permission → 403, and objects out of reach
never appear in the response. Routes added by later modules are walked without listing them.
"""

import re
import uuid

import pytest

from zhili.core.routes import all_routes
from zhili.core.scoping import perm_name
from zhili.core.testing import factories

ROUTES = [r for r in all_routes() if r.scope is not None]
DENIED = (401, 403, 404)


def _route_id(route):
    return f"{route.kind}:{'/'.join(route.methods)}:{route.path}"


def _fill(path: str, route, obj) -> str:
    examples = dict(route.scope.params)

    def value(match):
        name = match.group(1)
        if name == route.scope.lookup:
            return str(obj.pk) if obj is not None else "0"
        if name not in examples:
            pytest.fail(f"{route.path}: no battery value for path parameter {name!r} "
                        "(give it in RouteScope.params)")
        return examples[name]

    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", value, path)  # regex routes (re_path)
    return re.sub(r"<(?:\w+:)?(\w+)>", value, path).replace("\\", "")


def _request(client, route, method, path):
    if route.kind == "api":
        if method == "GET":
            return client.get(path)
        return client.generic(method, path, data="{}", content_type="application/json")
    if method == "GET":
        return client.get(path)
    return client.post(path, {})


def _allowed(persona, scope) -> bool:
    needed = [(scope.model, scope.action), *scope.requires, *scope.example_requires] \
        if scope.model else []
    return all(persona.has_perm(perm_name(model, action)) for model, action in needed)


def test_every_route_declares_a_scope():
    unscoped = [r.path for r in all_routes() if r.scope is None]
    assert not unscoped, unscoped


def test_battery_covers_every_scoped_model():
    models = {r.scope.model for r in ROUTES if r.scope.model is not None}
    missing = [m.__name__ for m in models if m not in factories()]
    assert not missing, f"no battery factory for {missing}"


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_route(route, world, client):
    scope = route.scope
    for method in route.methods:
        # Anonymous: pages send to the login form, the API answers 401.
        client.logout()
        if not scope.public:
            obj = world.area_inside(world.personas["superuser"]) if scope.lookup else None
            response = _request(client, route, method, _fill(route.path, route, obj))
            expected = 401 if route.kind == "api" else 302
            assert response.status_code == expected, (method, "anonymous", response.status_code)
        for persona in world.personas.values():
            client.force_login(persona.user)
            label = f"{method} {route.path} as {persona.key}"
            if scope.public or scope.model is None:
                path = _fill(route.path, route, None)
                status = _request(client, route, method, path).status_code
                # A public route may answer 404 for an example id that does not exist.
                refused = (401, 403) if scope.public else DENIED
                assert status not in refused and status < 500, (label, status)
                continue
            make = factories()[scope.model]
            marker = f"zz{uuid.uuid4().hex[:10]}"
            outside = make(world, persona, False, marker)
            if scope.lookup:
                inside = make(world, persona, True, f"zz{uuid.uuid4().hex[:10]}")
                if outside is not None:
                    status = _request(client, route, method,
                                      _fill(route.path, route, outside)).status_code
                    assert status == 404, (label, "outside", status)
                if inside is not None:
                    status = _request(client, route, method,
                                      _fill(route.path, route, inside)).status_code
                    if _allowed(persona, scope):
                        assert status not in DENIED and status < 500, (label, "inside", status)
                    else:
                        assert status == 403, (label, "inside, no permission", status)
                continue
            response = _request(client, route, method, route.path)
            if not _allowed(persona, scope):
                assert response.status_code == 403, (label, response.status_code)
                continue
            assert response.status_code not in DENIED and response.status_code < 500, (
                label, response.status_code)
            if method == "GET" and outside is not None:
                assert marker.encode() not in response.content, (label, "leaks", marker)
