"""The ``tam-widgets`` command line."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tam-widgets", description="Token Activation Maps for multimodal LLMs")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="explain the built-in synthetic scene and save a PNG")
    demo.add_argument("--out", default="tam_demo.png", help="where to write the PNG (default: %(default)s)")
    ex = sub.add_parser("explain", help="explain a model's answer about an image or a video")
    ex.add_argument("--model", required=True, help="Hugging Face model id or local path")
    ex.add_argument("--image", action="append", default=[], help="image path (repeat for several images)")
    ex.add_argument("--video", help="video path (or a folder of frames)")
    ex.add_argument("--prompt", required=True, help="the question")
    ex.add_argument("--out", required=True, help="where to write the explanation (.tam)")
    ex.add_argument("--png-dir", help="also write one overlay PNG per answer token here")
    ex.add_argument("--html", help="also write the interactive explorer as one offline HTML file")
    ex.add_argument("--max-new-tokens", type=int, default=64)
    ex.add_argument("--device", default="auto")
    ex.add_argument("--dtype", default="auto")
    ex.add_argument("--trust-remote-code", action="store_true", help="allow the checkpoint's own code to run")
    ht = sub.add_parser("html", help="turn a saved explanation (.tam) into one offline, interactive HTML file")
    ht.add_argument("record", help="a file written by `tam-widgets explain --out` or Explanation.save")
    ht.add_argument("--out", help="the HTML file (default: the record's name with .html)")
    ht.add_argument("--method", help="map kind shown first (default: tam)")
    ht.add_argument("--colormap", default="jet", choices=["jet", "viridis", "inferno"])
    from .evaluate import DATASETS, dataset_layouts

    ev = sub.add_parser(
        "evaluate",
        help="score a method on a dataset (resumable, shardable)",
        description="Explain and score every sample of a dataset. Results go to --out as one JSON line per sample; "
        "a rerun with the same settings resumes, other settings are refused (see --force-new).",
        epilog="dataset folder layouts (--root):\n\n" + dataset_layouts(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ev.add_argument("--model", required=True, help="Hugging Face model id or local path")
    ev.add_argument("--dataset", required=True, choices=DATASETS)
    ev.add_argument("--root", required=True, help="the dataset's folder (layouts below)")
    ev.add_argument(
        "--method",
        default="tam",
        help="tam, cam, eci_only, filter_only, eci_mean, tam_gaussian, tam_median, "
        "tam_adaptive_median, feature_surgery, gradcam_pp, layercam, attention, rollout",
    )
    ev.add_argument("--out", required=True, help="folder for the settings (run.json), per-sample results and summary")
    ev.add_argument(
        "--compat",
        default="default",
        choices=["default", "official"],
        help="official: the paper's code (reference maps and its metric quirks)",
    )
    ev.add_argument("--shard", help="i/n: this process takes every n-th sample from i (default: RANK/WORLD_SIZE)")
    ev.add_argument("--limit", type=int, help="run only the first N (>= 1) samples of each shard")
    ev.add_argument("--max-new-tokens", type=int, default=256)
    ev.add_argument("--device", default="auto")
    ev.add_argument("--dtype", default="auto")
    ev.add_argument("--wait", type=float, default=0.0, help="seconds to wait for other shards before merging")
    ev.add_argument("--trust-remote-code", action="store_true")
    ev.add_argument(
        "--force-new",
        action="store_true",
        help="start over in --out although it holds results of other settings; they are moved to "
        "--out/old-<UTC time>/ (nothing is deleted)",
    )
    args = parser.parse_args(argv)
    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "explain":
        return _explain(args)
    if args.command == "html":
        return _html(args)
    if args.command == "demo":
        from .demo import run_demo

        path = run_demo(args.out)
        print(f"wrote {path}")
    return 0


def _explain(args) -> int:
    from pathlib import Path

    from .explain import load

    if not args.image and not args.video:
        print("error: pass --image PATH (one or more) or --video PATH", file=sys.stderr)
        return 2
    with _Status(f"loading {args.model}"):
        explainer = load(args.model, device=args.device, dtype=args.dtype, trust_remote_code=args.trust_remote_code)
    video = args.video
    if video and Path(video).is_dir():
        video = sorted(str(p) for p in Path(video).iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    with _Status(f"generating up to {args.max_new_tokens} tokens and explaining them"):
        exp = explainer.explain(images=args.image, video=video, prompt=args.prompt, max_new_tokens=args.max_new_tokens)
    path = exp.save(args.out)
    print(f"answer: {exp.answer}")
    print(f"wrote {path}")
    if args.png_dir:
        written = exp.save_pngs(args.png_dir)
        print(f"wrote {len(written)} PNGs to {args.png_dir}")
    if args.html:
        print(f"wrote {exp.to_html(args.html)}")
    return 0


def _html(args) -> int:
    from pathlib import Path

    from .record import Explanation

    try:
        exp = Explanation.load(args.record)
        out = exp.to_html(args.out or Path(args.record).with_suffix(".html"), method=args.method,
                          colormap=args.colormap)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def _evaluate(args) -> int:
    import os
    import warnings

    from .evaluate import (
        Evaluation,
        EvaluationError,
        EvaluationWarning,
        check_limit,
        check_method,
        format_table,
        open_dataset,
        parse_shard,
        prepare,
        run,
        run_settings,
    )
    from .explain import load

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, EvaluationWarning):
            print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            default_show(message, category, filename, lineno, file, line)

    default_show = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("default", EvaluationWarning)  # shown, each message once
        warnings.showwarning = show
        try:  # everything that can be checked before the (slow) model load
            shard = parse_shard(args.shard)
            check_limit(args.limit)
            check_method(args.method)
            dataset = open_dataset(args.dataset, args.root)
            known = run_settings(
                model=args.model,
                method=args.method,
                compat=args.compat,
                dataset=args.dataset,
                dataset_size=len(dataset),
                shards=shard[1],
                max_new_tokens=args.max_new_tokens,
            )
            del known["revision"], known["generation"]  # known after loading the model
            out = prepare(args.out, known, force_new=args.force_new, partial=True)
            with Evaluation(out, shard).lock():  # a busy shard is refused now, not after the model load
                pass
        except (ValueError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        device = args.device
        if device == "auto" and "LOCAL_RANK" in os.environ:
            import torch

            if torch.cuda.is_available():
                device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
        with _Status(f"loading {args.model}"):
            explainer = load(
                args.model,
                device=device,
                dtype=args.dtype,
                trust_remote_code=args.trust_remote_code,
                compat="reference" if args.compat == "official" else "default",
            )
        try:
            summary = run(
                explainer,
                dataset,
                args.out,
                method=args.method,
                compat=args.compat,
                shard=shard,
                max_new_tokens=args.max_new_tokens,
                limit=args.limit,
                wait_for_shards=args.wait,
                force_new=args.force_new,
            )
        except EvaluationError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    if summary is None:
        print(f"shard {shard[0]}/{shard[1]} done; the summary is written when every shard has finished")
    else:
        print(format_table(summary, f"{args.method} ({args.compat})"))
    return 0


class _Status:
    """A one-line progress display with elapsed seconds (on stderr)."""

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        import threading
        import time

        self.t0, self.done = time.perf_counter(), threading.Event()

        def tick():
            while not self.done.wait(0.5):
                print(f"\r{self.what} ... {time.perf_counter() - self.t0:.0f}s", end="", file=sys.stderr, flush=True)

        self.thread = threading.Thread(target=tick, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        import time

        self.done.set()
        self.thread.join()
        status = "failed" if exc[0] else "done"
        print(f"\r{self.what} ... {status} in {time.perf_counter() - self.t0:.1f}s", file=sys.stderr, flush=True)
        return False


if __name__ == "__main__":
    sys.exit(main())
