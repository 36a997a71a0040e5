"""Entry point for launchers: ``torchrun ... -m tianping.finetune CONFIG [--resume RUN_DIR]``.

Every process runs the same training; transformers' Trainer reads RANK, WORLD_SIZE
and the rendezvous address from the environment that torchrun or accelerate sets.
"""

from __future__ import annotations

import argparse
import json
import sys

from tianping.errors import TianpingError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tianping.finetune")
    parser.add_argument("config", nargs="?", help="configuration file (JSON or YAML)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR instead")
    parser.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    arguments = parser.parse_args(argv)
    from tianping.finetune import engine

    try:
        if arguments.resume:
            summary = engine.resume(arguments.resume, progress=not arguments.no_progress)
        elif arguments.config:
            summary = engine.run_file(arguments.config, progress=not arguments.no_progress)
        else:
            parser.error("give CONFIG or --resume RUN_DIR")
    except TianpingError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
