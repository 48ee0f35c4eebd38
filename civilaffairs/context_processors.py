from django.utils.functional import SimpleLazyObject

from civilaffairs.models import Notification
from civilaffairs.navigation import menu_for


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {
        "nav_menu": menu_for(user, request.path),
        # Lazy: counted only where a template shows the bell.
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.visible_to(user).unread().count()
        ),
    }
