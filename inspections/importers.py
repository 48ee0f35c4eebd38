"""Importer of checklist items. A checklist is versioned: any change to its items (or name)
saves the next version through ``checklist_create``, keeping the old one for the visits that
used it; a file that matches the current version saves nothing."""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from civilaffairs import imports
from civilaffairs.choices import BottomLine, Cornerstone, Role
from civilaffairs.imports import Change, Column, RowAction, RowProblem
from inspections.choices import Category, Severity
from inspections.models import ChecklistItem, ChecklistTemplate
from inspections.services import ITEM_FIELDS, checklist_create

MAX_ITEMS = 500


@imports.register
class ChecklistItemImporter(imports.Importer):
    slug = "checklist-items"
    title = gettext_lazy("Checklist items")
    description = gettext_lazy(
        "One row per check item. Rows are matched to the current version of the checklist "
        "by its code and the item's number: a changed item or a new one (numbered after the "
        "last item, without gaps) saves a new version of the checklist; items the file does "
        "not mention stay as they are. A new checklist code creates the checklist."
    )
    roles = (Role.SUPERVISOR, Role.OFFICE_HEAD)
    key = ("checklist", "position")
    columns = (
        Column(
            "checklist",
            gettext_lazy("Checklist code"),
            required=True,
            parse=imports.text(40),
            help=gettext_lazy("Code of the checklist, e.g. YL-FIRE."),
        ),
        Column(
            "checklist_name",
            gettext_lazy("Checklist name"),
            parse=imports.text(120),
            width=24,
            help=gettext_lazy(
                "Required for a new checklist; for an existing one, a different name saves a "
                "new version under that name. Every row of a checklist must give the same name."
            ),
        ),
        Column(
            "position",
            gettext_lazy("Item number"),
            required=True,
            parse=imports.integer(1, MAX_ITEMS),
            help=gettext_lazy("1, 2, 3… within the checklist; new items follow the last one."),
        ),
        Column(
            "bottom_line",
            gettext_lazy("Bottom line"),
            required=True,
            parse=imports.choice(BottomLine),
        ),
        Column("cornerstone", gettext_lazy("Cornerstone"), parse=imports.choice(Cornerstone)),
        Column(
            "category",
            gettext_lazy("Problem category"),
            required=True,
            parse=imports.choice(Category),
            width=16,
        ),
        Column(
            "text", gettext_lazy("Check item"), required=True, parse=imports.text(300), width=40
        ),
        Column("guidance", gettext_lazy("How to check"), parse=imports.text(2000), width=30),
        Column("legal_basis", gettext_lazy("Legal basis"), parse=imports.text(300), width=30),
        Column(
            "default_severity",
            gettext_lazy("Default severity"),
            parse=imports.choice(Severity),
            empty=Severity.GENERAL,
            help=gettext_lazy("Empty means general."),
        ),
    )

    def load(self, rows):
        codes = {row.get("checklist") for row in rows} - {None}
        current = (
            ChecklistTemplate.objects.visible_to(self.actor)
            .current()
            .filter(code__in=codes)
            .prefetch_related("items")
        )
        self.templates = {t.code: t for t in current}
        # Items numbered as people see them: 1… in the version's order.
        self.items = {
            code: sorted(t.items.all(), key=lambda i: (i.position, i.pk))
            for code, t in self.templates.items()
        }
        # Codes of checklists that exist but not for this actor: never silently shadowed.
        self.hidden = set(
            ChecklistTemplate.objects.filter(code__in=codes - set(self.templates)).values_list(
                "code", flat=True
            )
        )

    def check(self, row):
        code = row.get("checklist")
        template = self.templates.get(code)
        if template is None and code in self.hidden:
            raise RowProblem(
                _("No checklist with the code %(code)s exists in your scope.") % {"code": code},
                "checklist",
            )
        name = row.get("checklist_name") or ""
        if template is None and not name:
            raise RowProblem(_("A new checklist needs a name."), "checklist_name")
        fields = {f: row.get(f) for f in ITEM_FIELDS if row.has(f)}
        items = self.items.get(code, [])
        position = row.get("position")
        key = f"{code} #{position}"
        renamed = template is not None and bool(name) and name != template.name
        if position > len(items):
            fields.setdefault("default_severity", Severity.GENERAL)
            return Change(
                row,
                RowAction.CREATE,
                key,
                _("New item: %(text)s") % {"text": fields["text"]},
                {"code": code, "name": name, "position": position, "fields": fields},
            )
        item = items[position - 1]
        diffs = []
        for field_name, value in fields.items():
            old = getattr(item, field_name)
            if old != value:
                model_field = ChecklistItem._meta.get_field(field_name)
                labels = dict(model_field.flatchoices) if model_field.choices else {}
                diffs.append(
                    (model_field.verbose_name, labels.get(old, old), labels.get(value, value))
                )
        if renamed:
            diffs.append((_("Checklist name"), template.name, name))
        data = {"code": code, "name": name, "position": position, "fields": fields}
        if not diffs:
            return Change(row, RowAction.UNCHANGED, key, data=data)
        return Change(row, RowAction.UPDATE, key, imports.describe(diffs), data)

    def check_file(self, rows, changes):
        errors = []
        names: dict[str, tuple[str, int]] = {}
        positions: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            code, name = row.get("checklist"), row.get("checklist_name")
            if code is None:
                continue
            if row.get("position") is not None:
                positions[code].add(row.get("position"))
            if not name:
                continue
            if code in names and names[code][0] != name:
                errors.append(
                    self.error(
                        row,
                        _("The checklist name differs from row %(row)s.") % {"row": names[code][1]},
                        "checklist_name",
                    )
                )
            names.setdefault(code, (name, row.number))
        for change in changes:
            code, position = change.data["code"], change.data["position"]
            count = len(self.items.get(code, []))
            if position <= count:
                continue
            wanted = set(range(count + 1, position))
            if not wanted <= positions[code]:
                errors.append(
                    self.error(
                        change.row,
                        _(
                            "Item numbers must follow each other: checklist %(code)s has "
                            "%(count)s items, so new items are numbered from %(next)s on "
                            "without gaps."
                        )
                        % {"code": code, "count": count, "next": count + 1},
                        "position",
                    )
                )
        return errors

    def apply_all(self, changes):
        """One new version per checklist that changes, with every row of the file for it."""
        by_code: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            by_code[change.data["code"]].append(change)
        errors = []
        for code, group in by_code.items():
            errors += self.guarded(group[0].row, lambda c=code, g=group: self._save(c, g))
        return errors

    def _save(self, code, group):
        template = self.templates.get(code)
        items = [{f: getattr(i, f) for f in ITEM_FIELDS} for i in self.items.get(code, [])]
        name = template.name if template else ""
        for change in sorted(group, key=lambda c: c.data["position"]):
            position = change.data["position"]
            name = change.data["name"] or name
            if position <= len(items):
                items[position - 1] |= change.data["fields"]
            else:
                items.append(
                    {"cornerstone": "", "guidance": "", "legal_basis": ""} | change.data["fields"]
                )
        checklist_create(
            actor=self.actor,
            code=code,
            name=name,
            items=items,
            description=template.description if template else "",
            institution_types=template.institution_types if template else (),
        )

    def notes(self, changes):
        codes = {c.data["code"] for c in changes if c.action != RowAction.UNCHANGED}
        if not codes:
            return []
        return [
            ngettext(
                "%(count)s checklist gets a new version: %(codes)s.",
                "%(count)s checklists get a new version: %(codes)s.",
                len(codes),
            )
            % {"count": len(codes), "codes": "、".join(sorted(codes))}
        ]
