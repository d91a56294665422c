from django.contrib import admin

from zhili.core import audit
from zhili.core.models import EscalationStep


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    """The escalation ladders (one per kind of workflow object); changes are audited."""

    list_display = ("workflow", "level", "after_minutes", "action")
    list_filter = ("workflow",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(actor=request.user, action="escalation.change", target=obj,
                     changes={k: str(form.cleaned_data.get(k)) for k in form.changed_data})

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action="escalation.delete", target=obj)
        super().delete_model(request, obj)
