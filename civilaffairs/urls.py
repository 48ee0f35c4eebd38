from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from civilaffairs.forms import LoginForm
from civilaffairs.views import account, pages, system

admin.site.site_header = "五五督查 · 系统管理"
admin.site.site_title = "五五督查"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", pages.HomeView.as_view(), name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/", pages.OrgUnitListView.as_view(), name="orgunit-list"),
    path("org/tree/", pages.OrgUnitTreeView.as_view(), name="orgunit-tree"),
    path("org/<int:pk>/", pages.OrgUnitDetailView.as_view(), name="orgunit-detail"),
    path("users/", pages.UserListView.as_view(), name="user-list"),
    path("users/<int:pk>/", pages.UserDetailView.as_view(), name="user-detail"),
    path("users/<int:pk>/unlock/", account.UserUnlockView.as_view(), name="user-unlock"),
    path("users/<int:pk>/otp-reset/", account.UserOTPResetView.as_view(), name="user-otp-reset"),
    path("account/", include("civilaffairs.account_urls")),
    path("audit/", pages.AuditEventListView.as_view(), name="audit-list"),
    path("imports/", include("civilaffairs.import_urls")),
    path("files/<uuid:uuid>/", system.attachment_download, name="attachment-download"),
    path("healthz", system.healthz, name="healthz"),
    path("jsi18n/", cache_page(3600)(JavaScriptCatalog.as_view()), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("civilaffairs.api.urls")),
    path("api/v1/", include("civilaffairs.api.notifications")),
    path("api/v1/", include("civilaffairs.api.jobs")),
    path("api/v1/", include("inspections.api.urls")),
    path("api/v1/", include("rectification.api.urls")),
    path("api/v1/", include("rectification.api.complaint_urls")),
    path("api/v1/", include("reports.api.daily")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/", include("civilaffairs.api.imports")),
    path("inspections/", include("inspections.urls")),
    path("rectification/", include("rectification.urls")),
    path("public/", include("rectification.public_urls")),
    path("reports/", include("reports.urls")),
    path("notifications/", include("civilaffairs.notification_urls")),
    path("downloads/", include("civilaffairs.job_urls")),
    path("m/", include("inspections.mobile_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script), so the page needs no
    # inline script under the Content-Security-Policy.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
]

handler400 = "civilaffairs.views.system.error_400"
handler403 = "civilaffairs.views.system.error_403"
handler404 = "civilaffairs.views.system.error_404"
handler500 = "civilaffairs.views.system.error_500"
