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


class ComplaintQuerySet(VisibleQuerySet):
    def counted(self):
        """Cases that count in figures: a duplicate merged into another is not a case."""
        return self.exclude(state="merged")

    def visible_to(self, user):
        """The office and city leaders see every complaint; a district leader those of the
        district or handled in it; the unit or department handling a case sees it through its
        order. Inspectors, auditors and system administrators see none."""
        from rectification.models import Rectification

        if not _active(user):
            return self.none()
        if city_wide(user):
            return self.all()
        if not user.has_role(Role.LEADER, Role.UNIT_LIAISON, Role.DEPARTMENT):
            return self.none()
        handled = Rectification.objects.visible_to(user).filter(complaint__isnull=False)
        condition = Q(pk__in=handled.values("complaint_id"))
        leader = _leader_scope_q(user, "district__")
        if leader is not None:
            condition |= leader
        return self.filter(condition)


class CommitmentQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """Inside the system a commitment is seen by whoever sees its order (the office, the
        leaders, the department responsible); the public page shows published ones to all."""
        from rectification.models import Rectification

        if not _active(user):
            return self.none()
        if city_wide(user):
            return self.all()
        orders = Rectification.objects.visible_to(user).filter(commitment__isnull=False)
        return self.filter(pk__in=orders.values("commitment_id"))

    def published(self):
        return self.filter(public=True).exclude(order__state="cancelled")
