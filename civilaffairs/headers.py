"""Response headers that no single view should have to remember."""

API_PREFIX = "/api/"


class ApiNoStoreMiddleware:
    """Every API answer (data, errors, redirects, the schema and its docs) is ``no-store``: it
    holds personal and secret data, and neither a shared proxy nor the browser's disk cache may
    keep it. The inspector's offline copy is the service worker's own cache, which this header
    does not touch."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            response["Cache-Control"] = "no-store"
        return response
