"""tianping (天平): trustworthy legal AI for Chinese law."""

__version__ = "0.1.0"
