from django.urls import path

from civilaffairs.views import imports

app_name = "imports"

urlpatterns = [
    path("", imports.ImportIndexView.as_view(), name="index"),
    path("<slug:kind>/", imports.UploadView.as_view(), name="upload"),
    path("<slug:kind>/template/", imports.TemplateDownloadView.as_view(), name="template"),
    path("<slug:kind>/commit/", imports.CommitView.as_view(), name="commit"),
    path("<slug:kind>/done/", imports.DoneView.as_view(), name="done"),
]
