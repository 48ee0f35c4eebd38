from rest_framework.permissions import BasePermission


class DenyByDefault(BasePermission):
    """Signed-in, active users only, and then only the roles the view names.

    A view that forgets to say who may use it is closed to everyone, not open to everyone."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        allowed = getattr(view, "allowed_roles", None)
        if allowed is None:
            return False
        if allowed == "__all__":
            return True
        return user.has_role(*allowed)
