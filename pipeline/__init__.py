"""ClipInsight: turn a video (or its transcript) into a reviewed content pack.

The package holds every rule of the product; the pages, the notebooks and the CLI are thin
clients of :mod:`pipeline.api`.
"""

__version__ = "0.1.0"

__all__ = ["connect", "query"]


def connect(settings=None):
    """A read-only connection to the database for notebooks (``pipeline.sql``)."""
    from pipeline.sql import connect as _connect  # the store loads Arrow Flight; import it when asked

    return _connect(settings)


def query(sql: str, params=(), settings=None):
    """The rows of one SELECT as a pandas DataFrame (``pipeline.sql``)."""
    from pipeline.sql import query as _query

    return _query(sql, params, settings)
