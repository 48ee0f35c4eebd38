"""Serializer fields shared by the API."""

from rest_framework import serializers

from civilaffairs.choices import choice_labels


class ChoiceLabelField(serializers.CharField):
    """The label of a choice field's value: ``get_<field>_display()``, read-only, without its
    cost per call. As a ``source`` the method made DRF inspect its signature for every row and
    Django rebuild the choices mapping, most of a list page's serialising at 50 rows; this
    reads the value and looks it up in the model field's choices, translated once per language
    and kept per field. A value that is not among the choices is given as itself, as
    ``get_<field>_display`` does."""

    def __init__(self, field_name: str, **kwargs):
        self.choice_field = field_name
        super().__init__(source=field_name, read_only=True, **kwargs)

    def bind(self, field_name, parent):
        super().bind(field_name, parent)
        self.model = parent.Meta.model
        self.model._meta.get_field(self.choice_field)  # a misspelt field fails here

    def labels_here(self) -> dict:
        """The labels in the active language, as strings."""
        return choice_labels(self.model, self.choice_field)

    def to_representation(self, value):
        return self.labels_here().get(value, value)
