"""ClipInsight: turn a video (or its transcript) into a reviewed content pack.

The package holds every rule of the product; the pages, the notebooks and the CLI are thin
clients of :mod:`pipeline.api`.
"""

__version__ = "0.1.0"
