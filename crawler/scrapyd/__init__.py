"""Crawls on Scrapyd: the crawler as a Scrapy project, and the dispatcher that runs it there.

Scrapyd runs crawls on one node or many through a JSON API, but has no recurrence: the schedule
stays the scheduler's (:mod:`crawler.scheduling`). With ``TDIR_SCRAPYD_URL`` set, each scheduled
crawl is a Scrapyd job instead of a local ``tdir crawl`` process, and the rest of the run (the
index update, the history) is unchanged.

- :mod:`crawler.scrapyd.settings` and :mod:`crawler.scrapyd.spider`: the Scrapy project a node
  runs, ``scrapy crawl source -a source=NAME ...``; its runs are laid out, recorded and indexed
  exactly like local ones, in the shared data directory.
- :mod:`crawler.scrapyd.egg`: the project egg (``bdist_egg``), versioned by its content.
- :mod:`crawler.scrapyd.client`: the JSON API of one node.
- :mod:`crawler.scrapyd.dispatch`: picks a node, deploys the egg it lacks, schedules the job,
  follows it to its end and returns the run's record.
- :mod:`crawler.scrapyd.tickets`: what a job's crawl tells the dispatcher through the data
  directory (the run it opened, or why it could not).
"""
