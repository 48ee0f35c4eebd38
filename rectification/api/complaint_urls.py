from rest_framework.routers import DefaultRouter

from rectification.api import complaints

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("complaints", complaints.ComplaintViewSet, basename="api-complaint")
router.register(
    "complaint-figures", complaints.ComplaintFiguresViewSet, basename="api-complaint-figures"
)
router.register("commitments", complaints.CommitmentViewSet, basename="api-commitment")

urlpatterns = router.urls
