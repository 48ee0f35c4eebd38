from rest_framework.routers import DefaultRouter

from reports.api import briefs, dashboard, flash

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("flash-reports", flash.FlashReportViewSet, basename="api-flash-report")
router.register("briefs", briefs.BriefViewSet, basename="api-brief")

urlpatterns = [*router.urls, *dashboard.urlpatterns]
