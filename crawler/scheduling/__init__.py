"""Recrawls on a schedule: the scheduler service, the admins' schedule book, the run history.

- :class:`ScheduleBook` (``crawler.scheduling.book``) is what the command line and the
  dashboard call: schedules in force, admins' overrides and pauses, run requests, the history.
- :class:`~crawler.scheduling.service.SchedulerService` (``tdir scheduler``) runs each source on
  its schedule: a crawl process, then the incremental index, recorded in the history. It is
  imported from its module, so that reading schedules does not load the job store's SQLAlchemy.
"""

from crawler.scheduling.book import ScheduleBook, SourceSchedule
from crawler.scheduling.errors import RunRefusedError, ScheduleError, SchedulerBusyError
from crawler.scheduling.history import RunEntry

__all__ = [
    "RunEntry",
    "RunRefusedError",
    "ScheduleBook",
    "ScheduleError",
    "SchedulerBusyError",
    "SourceSchedule",
]
