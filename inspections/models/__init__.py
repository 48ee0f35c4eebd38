from inspections.models.checklists import ChecklistItem, ChecklistTemplate
from inspections.models.findings import Finding, Photo
from inspections.models.plans import InspectionPlan
from inspections.models.visits import ItemResult, Visit

__all__ = [
    "ChecklistItem",
    "ChecklistTemplate",
    "Finding",
    "InspectionPlan",
    "ItemResult",
    "Photo",
    "Visit",
]
