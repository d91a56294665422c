from django.db.models import Count

from zhili.core import codes
from zhili.core.scoping import ScopedQuerySet


class AreaQuerySet(ScopedQuerySet):
    scope_area_field = "code"
    # The tree itself is recoded by the area services, not by the row re-zoning.
    rezone = False

    def active(self):
        """Areas not retired."""
        return self.filter(status="active")

    def subtree(self, area, *, include_self: bool = True):
        """The area and everything under it: one index range on `code`."""
        qs = self.filter(codes.range_q("code", area.prefix))
        return qs if include_self else qs.exclude(pk=area.pk)

    def count_by_level(self) -> dict[int, int]:
        """{level: number of areas} in one grouped query."""
        return dict(self.values_list("level").annotate(n=Count("id")).order_by())

    def search(self, text: str):
        """By name fragment or code prefix."""
        text = text.strip()
        if not text:
            return self
        if text.isdigit():
            return self.filter(codes.range_q("code", text)) if len(text) <= codes.CODE_WIDTH \
                else self.none()
        return self.filter(name__icontains=text)
