from rest_framework.routers import DefaultRouter

from inspections.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("plans", views.PlanViewSet, basename="api-plan")
router.register("checklists", views.ChecklistViewSet, basename="api-checklist")
router.register("visits", views.VisitViewSet, basename="api-visit")
router.register("findings", views.FindingViewSet, basename="api-finding")
router.register("photos", views.PhotoViewSet, basename="api-photo")

urlpatterns = router.urls
