from django.urls import path
from rest_framework.routers import DefaultRouter

from civilaffairs.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("org-units", views.OrgUnitViewSet, basename="api-orgunit")
router.register("users", views.UserViewSet, basename="api-user")
router.register("attachments", views.AttachmentViewSet, basename="api-attachment")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    *router.urls,
]
