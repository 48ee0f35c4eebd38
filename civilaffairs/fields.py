"""Model fields for personal data: encrypted text and the blind index that finds it.

``EncryptedCharField(max_length=30)`` behaves like a CharField of 30 characters in Python,
forms and validation; the column holds the AES-GCM token (civilaffairs.crypto), wide enough for
the longest one, and the value is decrypted as it is loaded. An empty value stays empty (that a
case has no phone is not a secret). The column can only be compared with "" or NULL: a filter
on a value raises FieldError, because a random nonce makes every token different — look a value
up through its ``BlindIndexField`` instead.

``BlindIndexField(source="phone", kind=crypto.PHONE)`` keeps the blind index of another field
of the same model, recomputed whenever the row is saved (``save(update_fields=…)`` must name
it too; ``QuerySet.update()`` of the source does not maintain it). Search with
``Model.objects.filter(phone_bidx=crypto.blind_index(value, crypto.PHONE))``: exact matches
only."""

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from civilaffairs import crypto


class _EmptyOnlyExact(Exact):
    def get_prep_lookup(self):
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            label = self.lhs.output_field.crypto_label
            raise FieldError(
                f"{label}: an encrypted field cannot be compared with a value; filter on its "
                "blind index"
            )
        return super().get_prep_lookup()


class EncryptedCharField(models.CharField):
    description = "Text encrypted at rest (AES-256-GCM)"

    @property
    def crypto_label(self) -> str:
        """The associated data that binds a token to this column: app.model.field."""
        return f"{self.model._meta.label_lower}.{self.name}"

    def db_type(self, connection):
        data = {"max_length": crypto.token_length(self.max_length)}
        column = connection.data_types["CharField"]
        return column(data) if callable(column) else column % data

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def from_db_value(self, value, expression, connection):
        if crypto.is_token(value):
            return crypto.decrypt(value, self.crypto_label)
        return value  # "" or NULL, or text written before the data migration

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), self.crypto_label)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: '{lookup_name}' cannot search it; "
            "filter on its blind index"
        )


class BlindIndexField(models.CharField):
    description = "Blind index (HMAC-SHA256) of another field"

    def __init__(self, *args, source: str, kind: str, **kwargs):
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"], kwargs["kind"] = self.source, self.kind
        for key, value in (
            ("max_length", 64),
            ("blank", True),
            ("default", ""),
            ("editable", False),
            ("db_index", True),
        ):
            if kwargs.get(key) == value:
                del kwargs[key]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = crypto.blind_index(getattr(model_instance, self.source), self.kind)
        setattr(model_instance, self.attname, value)
        return value
