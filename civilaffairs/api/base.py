"""The base viewsets every endpoint derives from: visibility applied by default, the page's
FilterSet reused, unknown filters refused rather than ignored."""

from rest_framework import mixins, viewsets


class VisibleViewSetMixin:
    """``get_queryset`` starts from ``Model.objects.visible_to(user)``: an object outside the
    user's view is simply not there (404)."""

    model = None
    allowed_roles: tuple[str, ...] | str | None = None  # read by DenyByDefault

    def get_queryset(self):
        queryset = self.model.objects.visible_to(self.request.user)
        return self.decorate_queryset(queryset)

    def decorate_queryset(self, queryset):
        return queryset


class VisibleReadOnlyViewSet(VisibleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class VisibleModelViewSet(
    VisibleViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Writes go through services, declared per action in subclasses (no generic update)."""
