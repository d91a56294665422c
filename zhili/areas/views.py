from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhili.areas import queries, services, transfer
from zhili.areas.choices import AreaLevel
from zhili.areas.forms import (
    AreaAttributesForm,
    AreaCreateForm,
    ChangeForm,
    ImportForm,
    MergeForm,
    RecodeForm,
    SplitForm,
)
from zhili.areas.models import Area, AreaChange
from zhili.core import codes
from zhili.core.api import RouteScope
from zhili.core.jobs import start_job
from zhili.core.scoping import can, get_scope
from zhili.core.views import ListPageView, PageView, ServiceFormView, ZhiliView


def area_crumbs(user, area: Area, *, link_self: bool = False):
    """The parent chain as breadcrumbs; areas outside the user's reach are shown unlinked."""
    scope = get_scope(user)
    crumbs = [(_("Area tree"), reverse("areas:tree"))]
    for ancestor in area.ancestors():
        url = ancestor.get_absolute_url() if scope.covers_code(ancestor.code) else None
        crumbs.append((ancestor.name, url))
    crumbs.append((area.name, area.get_absolute_url() if link_self else None))
    return crumbs


class AreaTreeView(ListPageView):
    """The tree from the user's own area down, expanded level by level; or search results."""

    route_scope = RouteScope(Area, "view")
    template_name = "areas/tree.html"
    title = _("Area tree")
    paginate_by = 100

    def filter_queryset(self, queryset):
        self.query = self.request.GET.get("q", "").strip()
        if not self.query:
            return queryset.none()
        return queryset.search(self.query).order_by("level", "code")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        root = queries.root_for(self.request.user)
        context.update(query=self.query, root=root,
                       children=queries.children_with_counts(root) if root else [],
                       can_import=can(self.request.user, Area, "import"))
        return context


class AreaChildrenView(PageView):
    """htmx fragment: the children of one node, for expanding the tree."""

    route_scope = RouteScope(Area, "view", lookup="pk")
    template_name = "areas/_children.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["children"] = queries.children_with_counts(self.object)
        return context


class AreaDetailView(PageView):
    route_scope = RouteScope(Area, "view", lookup="pk")
    template_name = "areas/detail.html"

    def get_breadcrumbs(self):
        return area_crumbs(self.request.user, self.object)

    def get_context_data(self, **kwargs):
        from zhili.orgs.models import Organisation

        context = super().get_context_data(**kwargs)
        area = self.object
        user = self.request.user
        context.update(
            title=area.name,
            children=queries.children_with_counts(area),
            by_level=sorted(
                (AreaLevel(level).label, n) for level, n in
                Area.objects.active().subtree(area, include_self=False).count_by_level().items()
            ),
            org_count=Organisation.objects.restrict(user).filter(
                codes.range_q("area_code", area.prefix)).count(),
            changes=AreaChange.objects.filter(area=area).select_related("actor", "related")[:20],
            can_change=can(user, Area, "change") and area.is_active,
            can_add=can(user, Area, "add") and area.is_active and area.level < AreaLevel.GRID,
            can_merge=can(user, Area, "merge") and area.is_active and area.parent_id,
            geojson_url=reverse("api:area_geojson", args=[area.pk]),
            has_geometry=bool(area.polygon) or Area.objects.filter(
                parent=area, polygon__isnull=False).exists(),
        )
        return context


class AreaCreateView(ServiceFormView):
    route_scope = RouteScope(Area, "add", lookup="pk")
    template_name = "areas/form.html"
    form_class = AreaCreateForm
    success_message = _("The area was created.")

    def get(self, request, *args, **kwargs):
        return self._refuse_under_grid() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refuse_under_grid() or super().post(request, *args, **kwargs)

    def _refuse_under_grid(self):
        if self.object.level >= AreaLevel.GRID or not self.object.is_active:
            messages.error(self.request, _("No areas can be added under %(name)s.")
                           % {"name": self.object.name})
            return redirect(self.object.get_absolute_url())
        return None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "level": self.object.level + 1}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Add a %(level)s under %(parent)s") % {
            "level": AreaLevel(self.object.level + 1).label, "parent": self.object.name}
        return context

    def get_breadcrumbs(self):
        return area_crumbs(self.request.user, self.object, link_self=True)

    def perform(self, form):
        return services.create_area(actor=self.request.user, parent=self.object,
                                    **form.cleaned_data)


class AreaEditView(ServiceFormView):
    route_scope = RouteScope(Area, "change", lookup="pk")
    template_name = "areas/form.html"
    form_class = AreaAttributesForm
    success_message = _("The area was saved.")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        area = self.object
        kwargs["level"] = area.level
        kwargs["initial"] = {
            "name": area.name, "urban_rural": area.urban_rural,
            "community_type": area.community_type, "center_lng": area.center_lng,
            "center_lat": area.center_lat,
            "polygon": json.dumps(area.polygon, ensure_ascii=False) if area.polygon else "",
        }
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(name)s") % {"name": self.object.name}
        return context

    def get_breadcrumbs(self):
        return area_crumbs(self.request.user, self.object, link_self=True)

    def perform(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        return services.update_area(actor=self.request.user, area=self.object, **data)


class _ChangeView(ServiceFormView):
    template_name = "areas/change_form.html"

    def get_breadcrumbs(self):
        return area_crumbs(self.request.user, self.object, link_self=True)


class AreaMergeView(_ChangeView):
    route_scope = RouteScope(Area, "merge", lookup="pk")
    form_class = MergeForm
    success_message = _("The areas were merged; records are being moved in the background.")

    def get_form_kwargs(self):
        area = self.object
        targets = Area.objects.restrict(self.request.user, "merge").active().filter(
            level=area.level).exclude(pk=area.pk)
        return {**super().get_form_kwargs(), "targets": targets.order_by("code")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Merge %(name)s into another area") % {"name": self.object.name}
        context["explanation"] = _(
            "Sub-areas move under the target (keeping their own digits where free), every "
            "record located in this area follows, and this area is retired with the target "
            "as its successor.")
        return context

    def perform(self, form):
        data = form.cleaned_data
        return services.merge_areas(actor=self.request.user, source=self.object,
                                    target=data["target"], effective_on=data["effective_on"],
                                    note=data["note"])


class AreaRetireView(_ChangeView):
    route_scope = RouteScope(Area, "merge", lookup="pk")
    form_class = ChangeForm
    success_message = _("The area was retired.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Retire %(name)s") % {"name": self.object.name}
        context["explanation"] = _(
            "Only an area with no active sub-areas and no records located in it can be retired. "
            "Its code stays reserved and its history is kept.")
        return context

    def perform(self, form):
        return services.retire_area(actor=self.request.user, area=self.object,
                                    effective_on=form.cleaned_data["effective_on"],
                                    note=form.cleaned_data["note"])


class AreaRecodeView(_ChangeView):
    route_scope = RouteScope(Area, "merge", lookup="pk")
    form_class = RecodeForm
    success_message = _("The code was changed; records are being moved in the background.")

    def get_form_kwargs(self):
        area = self.object
        parents = Area.objects.restrict(self.request.user, "merge").active().filter(
            level=area.level - 1).order_by("code")
        return {**super().get_form_kwargs(), "parents": parents}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Change the code of %(name)s") % {"name": self.object.name}
        context["explanation"] = _(
            "Sub-areas and every record located in this area take the new code.")
        return context

    def perform(self, form):
        data = form.cleaned_data
        return services.recode_area(actor=self.request.user, area=self.object,
                                    new_code=data["new_code"], new_parent=data["new_parent"],
                                    effective_on=data["effective_on"], note=data["note"])


class AreaSplitView(_ChangeView):
    route_scope = RouteScope(Area, "merge", lookup="pk")
    form_class = SplitForm
    template_name = "areas/split_form.html"
    success_message = _("The area was split; records are being moved in the background.")

    def get_form_kwargs(self):
        try:
            parts = min(max(int(self.request.GET.get("parts", 2)), 2), 10)
        except ValueError:
            parts = 2
        children = Area.objects.filter(parent=self.object).active().order_by("code")
        return {**super().get_form_kwargs(), "children": children, "parts": parts}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Split %(name)s") % {"name": self.object.name}
        return context

    def perform(self, form):
        data = form.cleaned_data
        parts = [services.SplitPart(name=data[f"name_{i}"], code=data[f"code_{i}"])
                 for i in range(form.part_count)]
        for child in form.children:
            parts[int(data[f"child_{child.pk}"])].child_ids.append(child.pk)
        created = services.split_area(actor=self.request.user, source=self.object, parts=parts,
                                      effective_on=data["effective_on"], note=data["note"])
        return created[0]


class AreaImportView(ServiceFormView):
    route_scope = RouteScope(Area, "import")
    template_name = "areas/import.html"
    form_class = ImportForm
    title = _("Import areas")

    def get_breadcrumbs(self):
        return [(_("Area tree"), reverse("areas:tree")), (self.title, None)]

    def perform(self, form):
        upload = form.cleaned_data["file"]
        dry_run = form.cleaned_data["dry_run"]
        title = _("Area import check: %(file)s") if dry_run else _("Area import: %(file)s")
        return start_job(actor=self.request.user, kind="areas.import",
                         title=title % {"file": upload.name}, params={"dry_run": dry_run},
                         input_name=upload.name, input_data=upload.read())

    def get_success_url_for(self, job):
        return reverse("core:job_detail", args=[job.pk])


class AreaExportView(ZhiliView):
    """Download the user's subtree (or a sub-area's) as CSV or XLSX."""

    route_scope = RouteScope(Area, "import")

    def get(self, request):
        fmt = request.GET.get("format", "xlsx")
        if fmt not in ("xlsx", "csv", "csv-gb18030"):
            fmt = "xlsx"
        queryset = Area.objects.restrict(request.user, "import")
        root_id = request.GET.get("root")
        if root_id and root_id.isdigit():
            root = queryset.filter(pk=root_id).first()
            if root is not None:
                queryset = queryset.subtree(root)
        content, name, ctype = transfer.export_tree(actor=request.user, queryset=queryset,
                                                    fmt=fmt)
        response = HttpResponse(content, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class AreaTemplateView(ZhiliView):
    """An empty import template with the expected columns and one example row."""

    route_scope = RouteScope(Area, "import")

    def get(self, request):
        from zhili.core.tabular import write_xlsx

        example = ["320612001001001", "第一网格", "grid", "320612001001", "", "", "", "",
                   "", ""]
        response = HttpResponse(write_xlsx(transfer.COLUMNS, [example], sheet="areas"),
                                content_type="application/vnd.openxmlformats-officedocument"
                                             ".spreadsheetml.sheet")
        response["Content-Disposition"] = 'attachment; filename="areas-template.xlsx"'
        return response


