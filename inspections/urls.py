from django.urls import path

from inspections import views

app_name = "inspections"

urlpatterns = [
    path("plans/", views.PlanListView.as_view(), name="plan-list"),
    path("plans/new/", views.PlanCreateView.as_view(), name="plan-create"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan-detail"),
    path(
        "plans/<int:pk>/<str:action>/", views.PlanTransitionView.as_view(), name="plan-transition"
    ),
    path("checklists/", views.ChecklistListView.as_view(), name="checklist-list"),
    path("checklists/<int:pk>/", views.ChecklistDetailView.as_view(), name="checklist-detail"),
    path("visits/", views.VisitListView.as_view(), name="visit-list"),
    path("visits/<int:pk>/", views.VisitDetailView.as_view(), name="visit-detail"),
    path("visits/<int:pk>/amend/", views.VisitAmendView.as_view(), name="visit-amend"),
    path("findings/", views.FindingListView.as_view(), name="finding-list"),
    path("findings/<int:pk>/", views.FindingDetailView.as_view(), name="finding-detail"),
    path("findings/<int:pk>/amend/", views.FindingAmendView.as_view(), name="finding-amend"),
    path("photos/<uuid:uuid>/", views.photo_file, name="photo-file"),
    path("photos/<uuid:uuid>/thumb/", views.photo_thumbnail, name="photo-thumbnail"),
]
