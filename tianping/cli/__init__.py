"""Command-line interface of tianping."""
