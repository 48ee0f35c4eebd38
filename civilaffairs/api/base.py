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

    def permission_denied(self, request, message=None, code=None):
        # A signed-in user whose role may not use this endpoint learns nothing about a
        # particular object: its URL answers 404, like an object outside their view.
        lookup = self.lookup_url_kwarg or self.lookup_field
        if request.user and request.user.is_authenticated and lookup in self.kwargs:
            from rest_framework.exceptions import NotFound

            raise NotFound()
        super().permission_denied(request, message=message, code=code)

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
