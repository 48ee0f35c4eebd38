from django.db.models import Q

from civilaffairs.choices import Role
from civilaffairs.querysets import VisibleQuerySet
from inspections.querysets import _active, _leader_scope_q, _target_scope_q, city_wide


class RectificationQuerySet(VisibleQuerySet):
    def open(self):
        return self.filter(state__in=["issued", "acknowledged", "submitted", "returned"])

    def visible_to(self, user):
        """The office and city leaders see every order; a district leader, a unit's liaison
        and a department see the orders of units in their scope; a department also those it
        supervises."""
        if not _active(user):
            return self.none()
        if city_wide(user):
            return self.all()
        condition = Q(pk__in=[])
        leader = _leader_scope_q(user, "responsible_unit__")
        if leader is not None:
            condition |= leader
        target = _target_scope_q(user, "responsible_unit__", (Role.UNIT_LIAISON, Role.DEPARTMENT))
        if target is not None:
            condition |= target
        for scope in user.scopes_for(Role.DEPARTMENT):
            condition |= Q(supervising_department__path__startswith=scope.path)
        return self.filter(condition)


class ExtensionQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        from rectification.models import Rectification

        return self.filter(rectification__in=Rectification.objects.visible_to(user).values("pk"))
