"""Errors the command line reports as a user's mistake (``tdir: error: ...``), kept at the floor
so that the crawl store and the catalog can both raise them."""

from __future__ import annotations


class CatalogError(ValueError):
    """The catalog cannot be used; the message names the source and the field."""
