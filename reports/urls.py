from reports.views import briefs, daily, dashboard, flash

app_name = "reports"

urlpatterns = [*flash.urlpatterns, *daily.urlpatterns, *dashboard.urlpatterns, *briefs.urlpatterns]
