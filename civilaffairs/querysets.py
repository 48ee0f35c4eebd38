"""Reusable reads. Every model's manager has ``visible_to(user)``: the one place that decides
what a user may see, used by every page, API endpoint, export, count and dashboard."""

from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q

from civilaffairs.choices import Role


class VisibleQuerySet(models.QuerySet):
    """Base of every business queryset: subclasses must say what a user may see."""

    def visible_to(self, user):  # pragma: no cover - the contract
        raise NotImplementedError(f"{self.model.__name__} must define visible_to(user)")


def _any(conditions):
    return reduce(or_, conditions) if conditions else None


def org_scope_q(user, prefix: str = "") -> Q | None:
    """A Q over OrgUnit fields (``prefix`` leads to them) matching the units in the user's
    scopes; None when the user has no business scope. Department staff also see the units
    their department supervises."""
    conditions = []
    for assignment in user.role_assignments:
        if assignment.role in (Role.SYSADMIN, Role.AUDITOR) or assignment.scope is None:
            continue
        conditions.append(Q(**{f"{prefix}path__startswith": assignment.scope.path}))
        if assignment.role == Role.DEPARTMENT:
            conditions.append(
                Q(**{f"{prefix}supervising_department__path__startswith": assignment.scope.path})
            )
    return _any(conditions)


class OrgUnitQuerySet(VisibleQuerySet):
    def active(self):
        return self.filter(active=True)

    def subtree(self, unit):
        return self.filter(path__startswith=unit.path)

    def institutions(self):
        return self.filter(kind="institution")

    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_sysadmin:
            return self.all()
        if user.is_auditor:
            return self.none()
        condition = org_scope_q(user)
        return self.filter(condition) if condition is not None else self.none()


class UserQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_sysadmin:
            return self.all()
        condition = org_scope_q(user, prefix="org_unit__")
        if user.is_auditor or condition is None:
            return self.filter(pk=user.pk)
        return self.filter(condition | Q(pk=user.pk))
