"""Courier safety over the API (`/api/v1/delivery`): the registry, the companies' feeds and
waybill lookup, and supervision. Personal data is masked in every response."""

from zhili.delivery.api import feeds, registry, supervision  # noqa: F401 - they add routes
from zhili.delivery.api.base import router

__all__ = ["router"]
