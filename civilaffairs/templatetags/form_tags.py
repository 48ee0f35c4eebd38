"""Form rendering helpers for the list pages' filter bars."""

from django import template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def select_options(field):
    """The ``<option>`` elements of a select filter, the current value selected. Built in
    Python: a unit or plan select lists up to 500 choices, and a template loop that resolves
    the field's value for each of them was most of a list page's rendering time. Values are
    compared as text, as the template's ``stringformat:'s'`` did; values and labels are
    escaped (a label the select escaped already, as the kept unit and plan choices are, is not
    escaped twice)."""
    current = str(field.value())
    parts = []
    for value, label in field.field.widget.choices:
        text = str(value)
        parts.append(
            '<option value="%s"%s>%s</option>'  # noqa: UP031 (the fastest of the three here)
            % (
                # An id is digits: nothing to escape.
                text if type(value) is int else "" if value is None else escape(text),
                " selected" if text == current else "",
                conditional_escape(label),
            )
        )
    return mark_safe("".join(parts))  # nosec B308 B703 (every value and label escaped above)
