from rectification.views import commitments, complaints, orders, scorecards

app_name = "rectification"

urlpatterns = [
    *orders.urlpatterns,
    *scorecards.urlpatterns,
    *complaints.urlpatterns,
    *commitments.urlpatterns,
]
