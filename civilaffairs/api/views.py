from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from civilaffairs.api.auth import TokenObtainView, token_schema
from civilaffairs.api.base import VisibleReadOnlyViewSet, VisibleViewSetMixin
from civilaffairs.api.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    OrgUnitSerializer,
    UserSerializer,
)
from civilaffairs.files import attachment_store
from civilaffairs.filtersets import OrgUnitFilterSet, UserFilterSet
from civilaffairs.models import Attachment, OrgUnit, RoleAssignment, User
from civilaffairs.navigation import BUSINESS, DIRECTORY_ROLES


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


class TokenView(TokenObtainView):
    """Exchange a username and password (and the two-factor code where one is needed) for an
    API token (for the mobile pages and scripts); see civilaffairs.api.auth."""

    throttle_scopes = {"POST": "login"}  # per client address, besides the lockout

    @token_schema
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # No session, so no user_logged_in signal: the sign-in is recorded here.
        # (A wrong password is recorded by the user_login_failed signal of authenticate().)
        if response.status_code == status.HTTP_200_OK and "token" in response.data:
            from rest_framework.authtoken.models import Token

            from civilaffairs.auditing import record_sign_in

            token = Token.objects.select_related("user").get(key=response.data["token"])
            record_sign_in(user=token.user, via="api")
        return response


class AttachmentViewSet(VisibleViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Files. Upload one (multipart ``file``, optional ``description``): it is checked by its
    content, hashed and stored, belongs to nobody yet and is visible only to its uploader
    until a step attaches it, e.g. ``attachments`` of an order's report."""

    model = Attachment
    allowed_roles = BUSINESS
    serializer_class = AttachmentSerializer
    lookup_field = "uuid"
    parser_classes = [MultiPartParser, FormParser]
    throttle_scopes = {"POST": "upload"}

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
    )
    def create(self, request):
        data = AttachmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = attachment_store(
            actor=request.user,
            upload=data.validated_data["file"],
            description=data.validated_data["description"],
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)
