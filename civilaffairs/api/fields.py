"""Serializer fields shared by the API."""

from django.utils.encoding import force_str
from django.utils.translation import get_language
from rest_framework import serializers


class ChoiceLabelField(serializers.CharField):
    """The label of a choice field's value: ``get_<field>_display()``, read-only, without its
    cost per call. As a ``source`` the method made DRF inspect its signature for every row and
    Django rebuild the choices mapping, most of a list page's serialising at 50 rows; this
    reads the value and looks it up in the model field's choices, translated once per language
    and kept per field. A value that is not among the choices is given as itself, as
    ``get_<field>_display`` does."""

    def __init__(self, field_name: str, **kwargs):
        self.choice_field = field_name
        self.translated: dict[str | None, dict] = {}
        super().__init__(source=field_name, read_only=True, **kwargs)

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        model = parent.Meta.model
        self.labels = dict(model._meta.get_field(self.choice_field).flatchoices)

    def labels_here(self) -> dict:
        """The labels in the active language, as strings."""
        language = get_language()
        labels = self.translated.get(language)
        if labels is None:
            labels = self.translated[language] = {
                value: force_str(label, strings_only=True) for value, label in self.labels.items()
            }
        return labels

    def to_representation(self, value):
        return self.labels_here().get(value, value)
