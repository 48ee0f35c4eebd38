"""Links to scorecards from other apps' pages, shown only to those who may open them."""

from django import template
from django.urls import reverse

from rectification.scorecards import scorecard_units

register = template.Library()


@register.simple_tag(takes_context=True)
def scorecard_url(context, unit) -> str:
    """The URL of ``unit``'s scorecard, or "" when the user may not open it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if unit is None or user is None or not user.is_authenticated:
        return ""
    if not scorecard_units(user).filter(pk=unit.pk).exists():
        return ""
    return reverse("rectification:scorecard-detail", args=[unit.pk])
