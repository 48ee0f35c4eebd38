from reports.views import daily, dashboard, flash

app_name = "reports"

urlpatterns = [*flash.urlpatterns, *daily.urlpatterns, *dashboard.urlpatterns]
