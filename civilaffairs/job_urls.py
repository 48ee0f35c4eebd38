from django.urls import path

from civilaffairs.views import jobs as views

urlpatterns = [
    path("", views.JobListView.as_view(), name="job-list"),
    path("<uuid:uuid>/", views.JobDetailView.as_view(), name="job-detail"),
    path("<uuid:uuid>/download/", views.JobDownloadView.as_view(), name="job-download"),
]
