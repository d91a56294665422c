from zhili.core import navigation
from zhili.core.scoping import get_scope


def shell(request):
    """What the page frame needs: current position, the positions to switch to, navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    position = user.active_position
    positions = list(user.positions.active().select_related("role", "area", "org"))
    nav = navigation.visible_items(get_scope(user))
    from zhili.core.models import Notification

    unread = Notification.objects.in_scope(user).unread().count()
    return {
        "active_position": position,
        "my_positions": positions,
        "nav_sections": nav,
        "unread_notifications": unread,
        "current_url_name": getattr(request.resolver_match, "view_name", ""),
    }
