"""The base viewsets every endpoint derives from: visibility applied by default, the page's
FilterSet reused, unknown filters refused rather than ignored."""

from rest_framework import mixins, viewsets

from civilaffairs.api import rows


class VisibleViewSetMixin:
    """``get_queryset`` starts from ``Model.objects.visible_to(user)``: an object outside the
    user's view is simply not there (404)."""

    model = None
    allowed_roles: tuple[str, ...] | str | None = None  # read by DenyByDefault
    # A list page is read as column values where the serializer allows (civilaffairs.api.rows).
    list_as_values = True
    row_plan = None

    def get_queryset(self):
        queryset = self.model.objects.visible_to(self.request.user)
        return self.decorate_queryset(queryset)

    def paginate_queryset(self, queryset):
        self.row_plan = None
        if self.list_as_values and self.action == "list" and self.paginator is not None:
            self.row_plan = rows.plan_for(self.get_serializer_class(), queryset)
            # Only the page's rows are read as values: the count stays the model queryset's,
            # without the joins of the columns (an index-only count keeps working).
            self.paginator.read_rows = self.row_plan.select if self.row_plan else None
        return super().paginate_queryset(queryset)

    def get_serializer(self, *args, **kwargs):
        if self.row_plan is not None and kwargs.get("many") and args:
            return rows.RowsSerializer(self.row_plan, args[0])
        return super().get_serializer(*args, **kwargs)

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
