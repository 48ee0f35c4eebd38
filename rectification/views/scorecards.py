"""Unit scorecard pages. (Being built for #4.)"""

urlpatterns: list = []
