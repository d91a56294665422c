from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "zhili.orgs"
    verbose_name = _("Organisations")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from zhili.core.navigation import NavItem, register
        from zhili.orgs.models import Organisation, organisation_subtree

        # Any saved organisation may change a subtree: drop this process's cached subtrees
        # (other processes re-read theirs within 30 s).
        for signal in (post_save, post_delete):
            signal.connect(lambda **kw: organisation_subtree.clear(), sender=Organisation,
                           weak=False, dispatch_uid=f"org-subtree-{signal}")

        register(NavItem(_("Grids and areas"), _("Organisations"), "orgs:list", "building",
                         "orgs.view_organisation", order=20))
