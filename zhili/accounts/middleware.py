"""Session hygiene: idle expiry, and the position a user has chosen to act in."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

SESSION_POSITION = "zhili_position"
SESSION_SEEN = "zhili_seen"


class IdleSessionMiddleware:
    """Log a browser session out after ZHILI_SESSION_IDLE_MINUTES without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            seen = request.session.get(SESSION_SEEN)
            idle_limit = settings.ZHILI_SESSION_IDLE_MINUTES * 60
            if seen is not None and now - seen > idle_limit:
                logout(request)
                if not request.path.startswith("/api/"):
                    return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.path}&idle=1")
            else:
                # Write at most once a minute so every request does not rewrite the session.
                if seen is None or now - seen > 60:
                    request.session[SESSION_SEEN] = now
        return self.get_response(request)


class ActivePositionMiddleware:
    """Tell the user object which of its positions this session acts in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            user._chosen_position_id = request.session.get(SESSION_POSITION)
        return self.get_response(request)
