"""`python -m cluster.events.worker`: the relay and the consumers in a process of their own
(the same as `lorekeeper events worker`), beside or instead of the events application."""

from __future__ import annotations

import argparse
import sys

from cluster.events import commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster.events.worker")
    parser.add_argument("--no-relay", action="store_true", help="consumers only")
    parser.add_argument("--no-consumers", action="store_true", help="the relay only")
    args = parser.parse_args(argv)
    args.events_command = "worker"
    return commands.run(args)


if __name__ == "__main__":
    sys.exit(main())
