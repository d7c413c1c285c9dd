"""A PagerDuty emulator: the Events API v2, services, alerts and their de-duplication."""

from .model import ACKNOWLEDGED, RESOLVED, TRIGGERED, Alert
from .server import PagerDutyEmulator

__all__ = ["ACKNOWLEDGED", "RESOLVED", "TRIGGERED", "Alert", "PagerDutyEmulator"]
