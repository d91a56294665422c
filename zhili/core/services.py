"""Helpers every module's services.py uses.

Services are the only writers: keyword-only arguments, an explicit `actor`, one transaction,
audit rows written in the same transaction. They raise `ServiceError` for anything a user can
fix; the UI turns it into form errors and the API into a 4xx with field-level messages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    """A refused write, with a stable code and messages per field ("__all__" for the form)."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        field_messages: dict[str, list] | None = None,
        status: int | None = None,
    ):
        self.code = code
        self.field_messages = {k: [str(m) for m in v] for k, v in (field_messages or {}).items()}
        self.message = str(message) if message else self._first_message()
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def _first_message(self) -> str:
        for messages in self.field_messages.values():
            if messages:
                return messages[0]
        return str(_("The request could not be completed."))

    @classmethod
    def from_validation(cls, exc: ValidationError, code: str = "invalid") -> ServiceError:
        if hasattr(exc, "error_dict"):
            fields = {name: [m for e in errors for m in e.messages] for name, errors in
                      exc.error_dict.items()}
        else:
            fields = {"__all__": list(exc.messages)}
        return cls(code, field_messages=fields)

    def apply_to_form(self, form) -> None:
        """Show the refusal on a Django form, field by field."""
        for name, messages in self.field_messages.items():
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(target, message)
        if not self.field_messages:
            form.add_error(None, self.message)


class Conflict(ServiceError):
    """Someone else changed the record first (optimistic locking): HTTP 409."""

    status = 409


def check_editable(data: dict, allowed) -> None:
    """Refuse fields an update service does not change (codes, tree position, owners …)."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ServiceError("invalid", _("These fields cannot be changed here: %s")
                           % ", ".join(sorted(unknown)))


def field_error(field: str, message) -> ServiceError:
    return ServiceError("invalid", field_messages={field: [message]})
