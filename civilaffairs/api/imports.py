"""Import API: the importers a caller may use, their Excel templates, and an upload that is
checked (``dry_run``, the default) or imported all or nothing. Same code path as the pages."""

from django.http import HttpResponse
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from civilaffairs import imports


class ImportColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    header = serializers.CharField(help_text="Column header in the template (Chinese).")
    required = serializers.BooleanField()
    help = serializers.CharField()
    choices = serializers.ListField(
        child=serializers.CharField(), help_text="Allowed values (labels), if limited."
    )


class ImporterSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="Use in the URLs below.")
    title = serializers.CharField()
    description = serializers.CharField()
    template_url = serializers.CharField()
    columns = ImportColumnSerializer(many=True)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="The filled-in .xlsx template.")
    dry_run = serializers.BooleanField(
        default=True, help_text="true (default): check only; false: import all or nothing."
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Excel row number (the header is row 1).")
    column = serializers.CharField(help_text="Column header, empty for the row as a whole.")
    value = serializers.CharField()
    message = serializers.CharField(help_text="The reason, in Chinese.")


class ImportChangeSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    action = serializers.CharField(help_text="create or update.")
    action_display = serializers.CharField()
    key = serializers.CharField(help_text="The record's natural key.")
    summary = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    committed = serializers.BooleanField(help_text="true when the rows were imported.")
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    notes = serializers.ListField(child=serializers.CharField())
    errors = ImportErrorSerializer(many=True)
    changes = ImportChangeSerializer(many=True, help_text="Rows that create or update.")


def _describe(cls) -> dict:
    return {
        "kind": cls.slug,
        "title": str(cls.title),
        "description": str(cls.description),
        "template_url": reverse("api-import-template", args=[cls.slug]),
        "columns": [
            {
                "key": c.key,
                "header": str(c.header),
                "required": c.required,
                "help": str(c.help),
                "choices": [str(label) for _value, label in (c.choices or ())],
            }
            for c in cls.columns
        ],
    }


KIND = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, description="An importer's ``kind`` from the list."
)


class ImportListView(APIView):
    """Importers the caller may use (system administrators: org units and users; the office:
    checklist items)."""

    @property
    def allowed_roles(self):
        return imports.import_roles()

    @extend_schema(operation_id="imports_list", responses=ImporterSerializer(many=True))
    def get(self, request):
        return Response([_describe(cls) for cls in imports.importers_for(request.user)])


class ImporterView(APIView):
    """Base of one importer's endpoints: an importer the caller may not use is not there."""

    allowed_roles = "__all__"

    def importer(self, kind):
        cls = imports.importer_for(kind, self.request.user)
        if cls is None:
            raise NotFound()
        return cls


class ImportTemplateView(ImporterView):
    def perform_content_negotiation(self, request, force=False):
        # A client asking for the workbook's type gets it; errors are JSON whatever it asked.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="imports_template",
        parameters=[KIND],
        responses={(200, imports.XLSX_MIME): OpenApiTypes.BINARY},
    )
    def get(self, request, kind):
        """The importer's Excel template (headers, instructions, allowed values)."""
        cls = self.importer(kind)
        response = HttpResponse(
            cls(request.user).template_workbook(), content_type=imports.XLSX_MIME
        )
        response["Content-Disposition"] = f'attachment; filename="{cls.filename()}"'
        return response


class ImportRunView(ImporterView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_scopes = {"POST": "import"}

    @extend_schema(
        operation_id="imports_run",
        parameters=[KIND],
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            200: ImportResultSerializer,
            400: OpenApiResponse(
                ImportResultSerializer,
                description="The file cannot be read (``detail`` in Chinese), or — without "
                "``dry_run`` — it has errors and nothing was imported.",
            ),
        },
    )
    def post(self, request, kind):
        """Check an .xlsx file (``dry_run``, the default) or import it all or nothing. Errors
        name the Excel row, the column and the reason in Chinese."""
        cls = self.importer(kind)
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        dry_run = data.validated_data["dry_run"]
        result = imports.run_import(cls, actor=request.user, upload=upload, commit=not dry_run)
        refused = not dry_run and not result.committed
        return Response(
            result.as_dict(), status=status.HTTP_400_BAD_REQUEST if refused else status.HTTP_200_OK
        )


urlpatterns = [
    path("imports/", ImportListView.as_view(), name="api-import-list"),
    path("imports/<slug:kind>/", ImportRunView.as_view(), name="api-import-run"),
    path("imports/<slug:kind>/template/", ImportTemplateView.as_view(), name="api-import-template"),
]
