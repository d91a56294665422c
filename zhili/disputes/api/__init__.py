"""Disputes over the API (`/api/v1/disputes`): cases, actions, judicial confirmation, the
agreement documents, the registry of bodies, routing proposals and risk alerts. Personal data
of parties is masked in every response; unmasking is `POST /api/v1/pii/unmask`."""

from zhili.disputes.api import actions, cases, registry  # noqa: F401 - they register routes
from zhili.disputes.api.base import router

__all__ = ["router"]
