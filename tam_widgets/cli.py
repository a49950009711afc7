"""The ``tam-widgets`` command line."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tam-widgets", description="Token Activation Maps for multimodal LLMs")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="explain the built-in synthetic scene and save a PNG")
    demo.add_argument("--out", default="tam_demo.png", help="where to write the PNG (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        path = run_demo(args.out)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
