"""The Scrapy project settings of the crawler egg (its ``scrapy`` entry point; ``scrapy.cfg``).

Only what every crawl of the project shares. Each crawl's own settings (politeness, its HTTP
cache and JOBDIR, the run it records, the feed of its records) are those of a local crawl,
applied by :class:`crawler.scrapyd.spider.SourceCrawl` once it knows the source; settings given
on the command line (Scrapyd's ``setting=`` parameters) still win over them.
"""

BOT_NAME = "tdir"
SPIDER_MODULES = ["crawler.scrapyd.spider"]
TELNETCONSOLE_ENABLED = False
# A node's log is what an admin reads when a job went wrong; the dispatcher asks for INFO.
LOG_LEVEL = "INFO"
