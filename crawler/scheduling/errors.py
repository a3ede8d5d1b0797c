"""The errors of scheduling, all user-facing: each message names the source or value at fault."""

from __future__ import annotations

from crawler.catalog import CatalogError


class ScheduleError(CatalogError):
    """A schedule, source or request cannot be used as given."""


class RunRefusedError(ScheduleError):
    """A run was not started or queued because the source already has one waiting or going."""


class SchedulerBusyError(ScheduleError):
    """Another scheduler service already runs on this data directory."""
