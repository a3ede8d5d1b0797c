# One image for every tdir service: dashboard, scheduler, Scrapyd node and the demo web.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TDIR_HOME=/data

WORKDIR /app
COPY pyproject.toml README.md scrapy.cfg ./
COPY tdir ./tdir
COPY crawler ./crawler
COPY indexer ./indexer
COPY dashboard ./dashboard
RUN pip install '.[scrapyd]' \
    && useradd --system --create-home --home-dir /home/tdir tdir \
    && mkdir -p /data \
    && chown tdir:tdir /data

USER tdir
VOLUME ["/data"]
EXPOSE 8501
CMD ["tdir", "--help"]
