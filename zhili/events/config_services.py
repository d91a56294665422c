"""Writes to the configuration of the event loop: routing table, categories, time limits."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.core.scoping import require, require_code_in_scope
from zhili.core.services import ServiceError, field_error
from zhili.events import rules
from zhili.events.models import EventCategory, RoutingRule, SLARule


@transaction.atomic
def save_routing_rule(*, actor, rule: RoutingRule | None, data: dict) -> RoutingRule:
    """Create or change a routing rule inside the actor's area; the lead organisation too."""
    require(actor, RoutingRule, "change" if rule else "add")
    if rule is not None:
        require_code_in_scope(actor, rule.area_code)
    area = data["area"]
    require_code_in_scope(actor, area.code)
    require_code_in_scope(actor, data["lead_org"].area_code, field_name="lead_org")
    rule = rule or RoutingRule()
    for key in ("area", "category", "lead_org", "note", "is_active"):
        setattr(rule, key, data.get(key, getattr(rule, key, None)))
    rule.area_code = area.code
    duplicate = RoutingRule.objects.filter(area=area, category=rule.category,
                                           is_active=True).exclude(pk=rule.pk)
    if rule.is_active and duplicate.exists():
        raise field_error("category", _("%(area)s already has an active rule for this "
                                        "category.") % {"area": area.name})
    rule.save()
    rule.assist_orgs.set(data.get("assist_orgs") or [])
    audit.record(actor=actor, action="event.routing_rule", target=rule,
                 changes={"area": area.code, "category": rule.category_id,
                          "lead_org": rule.lead_org_id, "active": rule.is_active})
    return rule


@transaction.atomic
def delete_routing_rule(*, actor, rule: RoutingRule) -> None:
    require(actor, RoutingRule, "delete")
    require_code_in_scope(actor, rule.area_code)
    audit.record(actor=actor, action="event.routing_rule_delete", target=rule)
    rule.delete()


@transaction.atomic
def save_category(*, actor, category: EventCategory | None, data: dict) -> EventCategory:
    require(actor, EventCategory, "change" if category else "add")
    category = category or EventCategory()
    if data.get("parent") is not None and data["parent"].parent_id is not None:
        raise field_error("parent", _("Categories have two levels: choose a group."))
    for key, value in data.items():
        setattr(category, key, value)
    clash = EventCategory.objects.filter(code=category.code).exclude(pk=category.pk)
    if clash.exists():
        raise field_error("code", _("The code %(code)s is taken.") % {"code": category.code})
    category.save()
    from zhili.core.memo import clear_all

    clear_all()  # category lookups are cached per process
    audit.record(actor=actor, action="event.category", target=category,
                 changes={"code": category.code, "active": category.is_active})
    return category


@transaction.atomic
def save_sla_rule(*, actor, rule: SLARule | None, data: dict) -> SLARule:
    require(actor, SLARule, "change" if rule else "add")
    if data["amount"] <= 0:
        raise field_error("amount", _("A time limit must be positive."))
    rule = rule or SLARule()
    for key, value in data.items():
        setattr(rule, key, value)
    clash = SLARule.objects.filter(category=rule.category, urgency=rule.urgency,
                                   step=rule.step).exclude(pk=rule.pk)
    if clash.exists():
        raise ServiceError("invalid", field_messages={"step": [
            _("A time limit for this step, category and urgency exists already.")]})
    rule.save()
    rules._limits.clear()
    audit.record(actor=actor, action="event.time_limit", target=rule,
                 changes={"step": rule.step, "amount": str(rule.amount), "unit": rule.unit,
                          "category": rule.category_id, "urgency": rule.urgency})
    return rule


@transaction.atomic
def delete_sla_rule(*, actor, rule: SLARule) -> None:
    require(actor, SLARule, "delete")
    if rule.category_id is None and not rule.urgency:
        raise ServiceError("in_use", _("The default time limit of a step cannot be deleted; "
                                       "change it instead."))
    audit.record(actor=actor, action="event.time_limit_delete", target=rule)
    rule.delete()
    rules._limits.clear()
