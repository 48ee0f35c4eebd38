"""The API's filter backend: django-filter's, without building a FilterSet for a request that
filters nothing.

A FilterSet builds a form of every filter on each request (the unit and district selects' own
querysets included) before it can tell that no filter was asked for; on a list's plain first
page that was a third of the server's time for the request. When the query string holds only
paging, ordering and format parameters, and the FilterSet neither overrides how it filters nor
declares a filter of one of those names, every filter would have been skipped as empty, and the
queryset is returned as it came. ``tests/test_api_rows.py`` compares both ways on every API
list."""

from django_filters import FilterSet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.settings import api_settings


class FilterBackend(DjangoFilterBackend):
    skip_unfiltered = True

    @staticmethod
    def not_filters(view) -> set[str]:
        names = {api_settings.ORDERING_PARAM, api_settings.URL_FORMAT_OVERRIDE}
        paginator = getattr(view, "paginator", None)
        for attribute in ("page_query_param", "page_size_query_param", "cursor_query_param"):
            name = getattr(paginator, attribute, None)
            if name:
                names.add(name)
        return names

    def filters_nothing(self, request, filterset_class, view) -> bool:
        names = self.not_filters(view)
        return (
            set(request.query_params) <= names
            and not names & set(filterset_class.base_filters)
            and filterset_class.filter_queryset is FilterSet.filter_queryset
            and filterset_class.qs is FilterSet.qs
        )

    def filter_queryset(self, request, queryset, view):
        if self.skip_unfiltered:
            filterset_class = self.get_filterset_class(view, queryset)
            if filterset_class is None or self.filters_nothing(request, filterset_class, view):
                return queryset
        return super().filter_queryset(request, queryset, view)
