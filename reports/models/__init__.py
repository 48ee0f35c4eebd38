from reports.models.daily import (
    DailyDigest,
    DailyReport,
    DailyReportLine,
    SensitivePeriod,
    WeeklyReport,
)
from reports.models.dashboard import DashboardSnapshot
from reports.models.flash import FlashRecipient, FlashReport, FlashSerial

__all__ = [
    "DailyDigest",
    "DailyReport",
    "DailyReportLine",
    "DashboardSnapshot",
    "FlashRecipient",
    "FlashReport",
    "FlashSerial",
    "SensitivePeriod",
    "WeeklyReport",
]
