from reports.models.daily import (
    DailyDigest,
    DailyReport,
    DailyReportLine,
    SensitivePeriod,
    WeeklyReport,
)
from reports.models.flash import FlashRecipient, FlashReport, FlashSerial

__all__ = [
    "DailyDigest",
    "DailyReport",
    "DailyReportLine",
    "FlashRecipient",
    "FlashReport",
    "FlashSerial",
    "SensitivePeriod",
    "WeeklyReport",
]
