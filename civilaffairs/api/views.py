from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from civilaffairs.api.base import VisibleReadOnlyViewSet
from civilaffairs.api.serializers import OrgUnitSerializer, UserSerializer
from civilaffairs.filtersets import OrgUnitFilterSet, UserFilterSet
from civilaffairs.models import OrgUnit, RoleAssignment, User
from civilaffairs.navigation import DIRECTORY_ROLES


class OrgUnitViewSet(VisibleReadOnlyViewSet):
    """Org units the caller may see, with the org directory page's filters."""

    model = OrgUnit
    allowed_roles = DIRECTORY_ROLES
    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilterSet
    ordering_fields = ["name", "code", "kind", "path"]
    ordering = ["path"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("parent", "district", "supervising_department")


class UserViewSet(VisibleReadOnlyViewSet):
    """Users the caller may see, with the user list page's filters. Phones are masked."""

    model = User
    allowed_roles = DIRECTORY_ROLES
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    ordering_fields = ["username", "real_name"]
    ordering = ["username"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("org_unit").prefetch_related(
            Prefetch("roles", queryset=RoleAssignment.objects.select_related("scope"))
        )

    @extend_schema(responses=UserSerializer)
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        """The signed-in user, with roles."""
        user = self.decorate_queryset(User.objects.filter(pk=request.user.pk)).get()
        return Response(UserSerializer(user).data)

    def get_permissions(self):
        if self.action == "me":
            self.allowed_roles = "__all__"
        return super().get_permissions()


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (for the mobile pages and scripts)."""

    permission_classes = [AllowAny]
