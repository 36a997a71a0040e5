"""Entry point for launchers: ``torchrun ... -m tianping.finetune CONFIG [--resume RUN_DIR]``.

Every process runs the same training; transformers' Trainer reads RANK, WORLD_SIZE
and the rendezvous address from the environment that torchrun or accelerate sets.
"""

from __future__ import annotations

import argparse
import json
import os
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
        _close_process_group(wait=False)
        return exc.exit_code
    _close_process_group(wait=True)
    _write_line(json.dumps(summary, ensure_ascii=False))
    return 0


def _write_line(text: str) -> None:
    """Write ``text`` and its newline to standard output in one system call.

    Every rank of a distributed run prints its summary to the same pipe. On
    Linux a pipe keeps a write of up to 4096 bytes (PIPE_BUF) whole. ``print``
    under PYTHONUNBUFFERED writes the text and the newline separately, so two
    ranks' lines could run together.
    """
    sys.stdout.flush()
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError):
        # A replaced standard output (a notebook, a test capture) has no descriptor.
        sys.stdout.write(text + "\n")
        return
    os.write(descriptor, (text + "\n").encode("utf-8"))


def _close_process_group(wait: bool) -> None:
    """Tear down the process group that the Trainer opened under a launcher.

    Left to interpreter shutdown, a gloo rank has aborted after a finished run with
    "terminate called without an active exception". With ``wait``, a barrier first
    keeps one rank from closing its sockets while another is still saving. After an
    error the other ranks may never reach a barrier, so none is awaited.
    """
    distributed = sys.modules.get("torch.distributed")
    if distributed is None or not distributed.is_available() or not distributed.is_initialized():
        return
    try:
        if wait:
            distributed.barrier()
    finally:
        distributed.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
