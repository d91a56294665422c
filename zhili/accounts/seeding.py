"""Create the seeded roles and give them their declared permissions (idempotent)."""

from django.contrib.auth.models import Group, Permission


def sync_roles(sender=None, using="default", **kwargs) -> None:
    from zhili.accounts.models import Role
    from zhili.accounts.roles import COMMON, ROLES

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
