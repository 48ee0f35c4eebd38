from reports.views import daily, flash

app_name = "reports"

urlpatterns = [*flash.urlpatterns, *daily.urlpatterns]
