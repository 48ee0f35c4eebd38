"""Visibility of inspections, with the secrecy of unannounced plans (DESIGN §5).

A secret plan, its visits and anything counted from them exist only for the office, leaders and
the plan's team until each visit starts; targets never see plans at all."""

from django.db.models import Q

from civilaffairs.choices import Role
from civilaffairs.querysets import VisibleQuerySet


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def city_wide(user) -> bool:
    """The office, and leaders whose scope is the whole city, see every inspection."""
    if user.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD):
        return True
    return any(s.parent_id is None for s in user.scopes_for(Role.LEADER))


def _leader_scope_q(user, prefix: str) -> Q | None:
    conditions = [Q(**{f"{prefix}path__startswith": s.path}) for s in user.scopes_for(Role.LEADER)]
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def _target_scope_q(user, prefix: str, roles) -> Q | None:
    """Units in the scopes of the given roles only (a liaison's, a department's)."""
    conditions = []
    for assignment in user.role_assignments:
        if assignment.role not in roles or assignment.scope is None:
            continue
        conditions.append(Q(**{f"{prefix}path__startswith": assignment.scope.path}))
        if assignment.role == Role.DEPARTMENT:
            conditions.append(
                Q(**{f"{prefix}supervising_department__path__startswith": assignment.scope.path})
            )
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def _assigned_visit_ids(user):
    """Ids of the visits the user is assigned to, or whose plan has the user on its team."""
    from inspections.models import InspectionPlan, Visit

    on_team = InspectionPlan.team.through.objects.filter(user=user).values("inspectionplan_id")
    assigned = Visit.inspectors.through.objects.filter(user=user).values("visit_id")
    return Visit.objects.filter(Q(pk__in=assigned) | Q(plan_id__in=on_team)).values("pk")


def _assigned_visits_q(user) -> Q:
    return Q(pk__in=_assigned_visit_ids(user))


class PlanQuerySet(VisibleQuerySet):
    def with_progress(self):
        """Visits, visits done and findings filed, per plan (counted within this queryset's
        plans only: secrecy is decided before, by visible_to)."""
        from django.db.models import Count

        return self.annotate(
            visit_count=Count("visits", distinct=True),
            visited_count=Count("visits", filter=Q(visits__state="submitted"), distinct=True),
            finding_count=Count(
                "visits__findings", filter=~Q(visits__findings__state="draft"), distinct=True
            ),
        )

    def visible_to(self, user):
        if not _active(user):
            return self.none()
        if city_wide(user):
            return self.all()
        team = self.model.team.through.objects.filter(user=user)
        condition = Q(pk__in=team.values("inspectionplan_id"))
        leader = _leader_scope_q(user, "target__")
        if leader is not None:
            from inspections.models import Visit

            condition |= Q(pk__in=Visit.objects.filter(leader).values("plan_id"))
        return self.filter(condition)


class VisitQuerySet(VisibleQuerySet):
    def started(self):
        return self.exclude(state__in=["planned", "cancelled"])

    def visible_to(self, user):
        if not _active(user):
            return self.none()
        if city_wide(user):
            return self.all()
        condition = _assigned_visits_q(user)
        leader = _leader_scope_q(user, "target__")
        if leader is not None:
            condition |= leader
        target = _target_scope_q(user, "target__", (Role.UNIT_LIAISON, Role.DEPARTMENT))
        if target is not None:
            # A target learns of a visit when it starts (of an announced one, when planned).
            condition |= (
                target & (Q(plan__secret=False) | ~Q(state__in=["planned"])) & ~Q(state="cancelled")
            )
        return self.filter(condition)


class FindingQuerySet(VisibleQuerySet):
    def filed(self):
        return self.exclude(state="draft")

    def open(self):
        return self.filter(state__in=["open", "transferred"])

    def visible_to(self, user):
        if not _active(user):
            return self.none()
        if city_wide(user):
            return self.all()
        condition = Q(found_by=user) | Q(visit__in=_assigned_visit_ids(user))
        filed = ~Q(state="draft")
        leader = _leader_scope_q(user, "target__")
        if leader is not None:
            condition |= leader & filed
        target = _target_scope_q(user, "target__", (Role.UNIT_LIAISON, Role.DEPARTMENT))
        if target is not None:
            condition |= target & filed
        for scope in user.scopes_for(Role.DEPARTMENT):
            condition |= Q(transferred_to__path__startswith=scope.path) & filed
        return self.filter(condition)


class ChecklistTemplateQuerySet(VisibleQuerySet):
    def current(self):
        return self.filter(is_current=True)

    def visible_to(self, user):
        # Checklists are working documents of the office and its inspectors.
        if not _active(user):
            return self.none()
        if user.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR, Role.LEADER):
            return self.all()
        return self.none()


class PhotoQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """A photo of a finding follows the finding; a visit's own photo follows the visit."""
        if not _active(user):
            return self.none()
        from inspections.models import Finding, Visit

        findings = Finding.objects.visible_to(user).values("pk")
        visits = Visit.objects.visible_to(user).values("pk")
        return self.filter(Q(finding__in=findings) | Q(finding__isnull=True, visit__in=visits))
