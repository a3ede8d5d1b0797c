"""Normalisation: raw crawled values to clean typed values, with a flag for every problem.

Each function is pure and returns :class:`~indexer.normalize.flags.Normalized` (a value, or
None, and its flags); :class:`~indexer.normalize.flags.FlagLog` gathers a record's flags so the
indexer can count them per ``field/reason``.

The package re-exports nothing: each caller imports the module it needs, so that code needing
one of them (the search needs ``states``) does not load the libraries of all the others
(dateparser, nameparser, phonenumbers, usaddress).
"""
