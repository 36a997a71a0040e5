"""The ``tianping`` command line: thin commands over the Python API."""

from __future__ import annotations

import importlib
import logging
import sys

import click

from tianping import __version__
from tianping.errors import TianpingError

# Command modules, each exposing ``register(cli)``. They import heavy or optional
# packages inside their commands, so a missing extra breaks only its own commands.
COMMAND_MODULES = [
    "tianping.cli.laws",
    "tianping.cli.ask",
    "tianping.cli.cite",
    "tianping.cli.chat",
    "tianping.cli.anonymize",
]


class TianpingGroup(click.Group):
    """A click group that turns tianping errors into one line and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TianpingError as exc:
            json_mode = "--json" in sys.argv
            if json_mode:
                import json

                click.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
            else:
                click.echo(f"错误：{exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=TianpingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tianping")
@click.option("-v", "--verbose", is_flag=True, help="Log progress details to stderr.")
def cli(verbose: bool) -> None:
    """tianping (天平): statute store, citation checking and legal search for Chinese law."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # bm25s logs each index build at DEBUG on its own handler.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    # Log lines can quote questions and file contents; mask personal data before any handler writes them.
    from tianping.anonymize import logging_filter

    for handler in logging.getLogger().handlers:
        handler.addFilter(logging_filter())


for module_name in COMMAND_MODULES:
    importlib.import_module(module_name).register(cli)


def main() -> None:
    cli(prog_name="tianping")


if __name__ == "__main__":
    main()
