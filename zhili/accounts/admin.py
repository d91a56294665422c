"""The back office (/admin/) is for system-wide superusers only: it reads without scoping, so
nobody else may enter it. Role permissions are edited here (a role is a Django group); each
change is written to the audit log."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from zhili.accounts.models import role_permissions
from zhili.core import audit


def _superusers_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superusers_only
admin.site.site_header = _("Zhili back office")
admin.site.site_title = _("Zhili back office")


class AuditedGroupAdmin(GroupAdmin):
    def save_related(self, request, form, formsets, change):
        before = set(form.instance.permissions.values_list("codename", flat=True)) \
            if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.permissions.values_list("codename", flat=True))
        role_permissions.clear()
        if before != after:
            audit.record(actor=request.user, action="role.permissions", target=form.instance,
                         changes={"added": sorted(after - before),
                                  "removed": sorted(before - after)})


admin.site.unregister(Group)
admin.site.register(Group, AuditedGroupAdmin)
