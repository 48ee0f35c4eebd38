from rectification.views import orders, scorecards

app_name = "rectification"

urlpatterns = [*orders.urlpatterns, *scorecards.urlpatterns]
