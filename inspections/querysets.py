"""Visibility of inspections, with the secrecy of unannounced plans (DESIGN §5).

A secret plan, its visits and anything counted from them exist only for the office, leaders and
the plan's team until each visit starts; targets never see plans at all."""

import calendar

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

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


def shift_months(moment, months: int):
    """``moment`` moved by whole calendar months in local time (negative: back), the day
    clamped to the month's length (31 March minus one month is 28/29 February)."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    year, month = divmod(local.year * 12 + local.month - 1 + months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def repeat_window_months() -> int:
    """Same unit, same category within this many months: a repeat problem (DESIGN §3.5)."""
    return settings.REPEAT_PROBLEM_MONTHS


class FindingQuerySet(VisibleQuerySet):
    def filed(self):
        return self.exclude(state="draft")

    def open(self):
        return self.filter(state__in=["open", "transferred"])

    def repeats(self, flag: bool = True):
        """Findings flagged as a repeat problem (``flag=False``: those that are not)."""
        return self.filter(repeat_of__isnull=not flag)

    def previous_occurrence(self, finding):
        """What ``finding`` repeats: the most recent filed finding at the same unit in the same
        category, found within the repeat window before it on another visit; None if none.

        Drafts never count (they are not on record yet); findings of the same visit are the
        same inspection, not a recurrence. Equal times are ordered by id."""
        start = shift_months(finding.found_at, -repeat_window_months())
        earlier = Q(found_at__lt=finding.found_at)
        if finding.pk is not None:
            earlier |= Q(found_at=finding.found_at, pk__lt=finding.pk)
        candidates = self.filed().filter(
            earlier,
            target_id=finding.target_id,
            category=finding.category,
            found_at__gte=start,
        )
        if finding.visit_id is not None:
            candidates = candidates.exclude(visit_id=finding.visit_id)
        return candidates.order_by("-found_at", "-pk").first()

    def history_of(self, finding, *, user):
        """The record of the same problem at the same unit: filed findings there in the same
        category within the repeat window before or after ``finding`` (itself and its own
        visit excluded), newest first, as far as ``user`` may see them."""
        months = repeat_window_months()
        history = (
            self.visible_to(user)
            .filed()
            .filter(
                target_id=finding.target_id,
                category=finding.category,
                found_at__gte=shift_months(finding.found_at, -months),
                found_at__lte=shift_months(finding.found_at, months),
            )
            .exclude(pk=finding.pk)
        )
        if finding.visit_id is not None:
            history = history.exclude(visit_id=finding.visit_id)
        return history.order_by("-found_at", "-pk")

    def with_repeat_visibility(self, user):
        """Annotate ``repeat_of_visible``: whether ``user`` may see the finding each one
        repeats (a flag is a fact of the finding; the earlier finding is only shown to those
        who may see it)."""
        from inspections.models import Finding

        visible = Finding.objects.visible_to(user).filter(pk=OuterRef("repeat_of_id"))
        return self.annotate(repeat_of_visible=Exists(visible))

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
