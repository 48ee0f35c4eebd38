from rest_framework.routers import DefaultRouter

from rectification.api import scorecards, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("rectifications", views.RectificationViewSet, basename="api-rectification")
router.register(
    "extension-requests", views.ExtensionRequestViewSet, basename="api-extension-request"
)
router.register("scorecards", scorecards.ScorecardViewSet, basename="api-scorecard")

urlpatterns = router.urls
