from rest_framework.routers import DefaultRouter

from reports.api import flash

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("flash-reports", flash.FlashReportViewSet, basename="api-flash-report")

urlpatterns = router.urls
