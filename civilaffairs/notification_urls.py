from django.urls import path

from civilaffairs.views import notifications as views

urlpatterns = [
    path("", views.NotificationListView.as_view(), name="notification-list"),
    path("<int:pk>/open/", views.NotificationOpenView.as_view(), name="notification-open"),
    path("read-all/", views.NotificationReadAllView.as_view(), name="notification-read-all"),
    path("bell/", views.NotificationBadgeView.as_view(), name="notification-bell"),
    path(
        "preferences/",
        views.NotificationPreferenceView.as_view(),
        name="notification-preferences",
    ),
]
