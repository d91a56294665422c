"""Create the seeded roles and give them their declared permissions (idempotent)."""

from django.contrib.auth.models import Group, Permission


def sync_roles(sender=None, using="default", **kwargs) -> None:
    from django.apps import apps

    from zhili.accounts.models import Role

    # post_migrate is sent once per app that has models; act on the last one only.
    last = [c for c in apps.get_app_configs() if c.models_module is not None][-1]
    if sender is not None and sender is not last:
        return
    from zhili.accounts.roles import COMMON, GRANTS, ROLES

    perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.using(using).select_related("content_type")
    }
    for order, (code, (name, scope_kind, perm_names)) in enumerate(ROLES.items()):
        role = Role.objects.using(using).filter(code=code).first()
        if role is None:
            group, _created = Group.objects.using(using).get_or_create(name=f"role:{code}")
            role = Role.objects.using(using).create(
                code=code, name=str(name), scope_kind=scope_kind, group=group, sort=order
            )
        wanted = [perms[name] for name in [*COMMON, *perm_names] if name in perms]
        role.group.permissions.add(*wanted)
    from zhili.accounts.models import role_permissions

    role_permissions.clear()
    roles = {role.code: role for role in Role.objects.using(using).all()}
    for code, granted in GRANTS.items():
        if code in roles:
            roles[code].grants.add(*[roles[c] for c in granted if c in roles])
