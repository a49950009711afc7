"""The ``tam-widgets`` command line.

Inputs are checked before a model is loaded; a failure prints one ``error: ...`` line (exit status 2
for bad input, 1 for anything else) unless ``--debug`` asks for the traceback. Progress lines tick
on a terminal only; in a log each stage writes one line.

    tam-widgets explain --model Qwen/Qwen2-VL-2B-Instruct --image cat.jpg --prompt "What is it?" --out out/cat.tam
    tam-widgets --debug html out/cat.tam
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: exceptions that mean "bad input": exit status 2 (anything else is 1)
INPUT_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line (before or after the sub-command)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = argparse.ArgumentParser(
        prog="tam-widgets",
        description="Token Activation Maps for multimodal LLMs",
        epilog="Run `tam-widgets COMMAND --help` for a command's options and examples.",
        formatter_class=_CommandList,
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    demo = sub.add_parser("demo", help="write an offline demo site of every view (no download)")
    demo.add_argument("--out", default="demo", help="the folder to write (default: %(default)s)")
    demo.add_argument("--families", nargs="*", metavar="FAMILY",
                      help="tiny model families to run (default: all; none: the synthetic scene only)")
    ex = sub.add_parser("explain", help="explain a model's answer about an image or a video")
    ex.add_argument("--model", required=True, help="Hugging Face model id or local path")
    ex.add_argument("--image", action="append", default=[], help="image path (repeat for several images)")
    ex.add_argument("--video", help="video path (or a folder of frames)")
    ex.add_argument("--prompt", required=True, help="the question")
    ex.add_argument("--out", required=True, help="where to write the explanation (.tam); folders are created")
    ex.add_argument("--png-dir", help="also write one overlay PNG per answer token here")
    ex.add_argument("--html", help="also write the interactive explorer as one offline HTML file")
    ex.add_argument("--max-new-tokens", type=int, default=64)
    ex.add_argument("--device", default="auto")
    ex.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    ex.add_argument("--trust-remote-code", action="store_true", help="allow the checkpoint's own code to run")
    ex.add_argument(
        "--allow-special-tokens",
        action="store_true",
        help="let control strings of the chat format in --prompt (e.g. <|im_end|>) act as control tokens",
    )
    ht = sub.add_parser("html", help="write a saved explanation (.tam) as an offline page")
    ht.add_argument("record", help="a file written by `tam-widgets explain --out` or Explanation.save")
    ht.add_argument("--out", help="the HTML file (default: the record's name with .html)")
    ht.add_argument("--method", help="map kind shown first (default: tam)")
    ht.add_argument("--colormap", default="jet", choices=["jet", "viridis", "inferno"])
    tl = sub.add_parser("timeline", help="write a saved chat (.tam) as an offline timeline page")
    tl.add_argument("record", help="a file written by Explanation.save of a chat's explanation")
    tl.add_argument("--out", help="the HTML file (default: the record's name with .timeline.html)")
    tl.add_argument("--method", help="map kind shown first (default: tam)")
    tl.add_argument("--colormap", default="jet", choices=["jet", "viridis", "inferno"])
    cmp = sub.add_parser(
        "compare",
        help="put several models' explanations side by side (page)",
    )
    cmp.add_argument("records", nargs="+", help="2 to 8 files written by `tam-widgets explain --out`")
    cmp.add_argument("--labels", nargs="+", help="one name per record (default: the model ids)")
    cmp.add_argument("--html", required=True, help="the HTML file to write")
    cmp.add_argument("--word", help="the word shown first (default: the first word every model said)")
    cmp.add_argument("--method", help="map kind shown first (default: tam)")
    cmp.add_argument("--colormap", default="jet", choices=["jet", "viridis", "inferno"])
    cmp.add_argument("--scale", default="own", choices=["own", "shared"],
                     help="own: each map over its own range; shared: one range for all models")
    cmp.add_argument("--allow-different-prompts", action="store_true",
                     help="compare answers to different questions about the same pictures")
    bd = sub.add_parser(
        "board",
        help="write a failure-case study as an offline board page",
        description="The study's cases, their annotations (--store) and the records cached beside the store "
        "(by a board or study.precompute in a notebook) as one HTML file; nothing is computed.",
    )
    bd.add_argument("--dataset", required=True, choices=["okvqa", "star"])
    bd.add_argument("--questions", help="okvqa: OpenEnded_mscoco_val2014_questions.json")
    bd.add_argument("--annotations", help="okvqa: mscoco_val2014_annotations.json")
    bd.add_argument("--images", help="okvqa: the val2014 picture folder")
    bd.add_argument("--star-json", help="star: STAR_val.json")
    bd.add_argument("--videos", help="star: the Charades video folder")
    bd.add_argument("--prompt", default="open", choices=["open", "choices"], help="star: how the model was asked")
    bd.add_argument("--store", required=True, help="the study's annotations file (records are cached beside it)")
    bd.add_argument("--limit", type=int, help="the first N questions only")
    bd.add_argument("--threshold", type=float, default=0.5, help="scores below this count as failed")
    bd.add_argument("--out", required=True, help="the HTML file")
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
    ev.add_argument(
        "--save-records",
        action="store_true",
        help="also store each sample's explanation as --out/records/<id>.tam (tw.compare_runs(...).open(id) shows it)",
    )
    cr = sub.add_parser(
        "compare-runs",
        help="compare evaluation runs of several models",
        description="Read the folders `tam-widgets evaluate --out` wrote (finished runs of one data set and --compat) "
        "and print the models' numbers side by side and each model's best and worst words.",
    )
    cr.add_argument("runs", nargs="+", help="evaluation folders (--out of `tam-widgets evaluate`)")
    cr.add_argument("--labels", nargs="+", help="a name per run (default: each run's model name)")
    cr.add_argument("--min-count", type=int, default=5, help="words in at least this many captions (default: 5)")
    cr.add_argument("--html", help="also write the comparison as one offline HTML file")
    cr.add_argument("--figure", help="also save the per-word bar chart (.png, .pdf, .svg)")
    cr.add_argument("--words", help="write the per-word table as CSV")
    _describe(sub)
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        if debug:
            raise
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if debug:
            raise
        print(f"error: {_one_line(e)}", file=sys.stderr)
        print("(run again with --debug for the traceback)", file=sys.stderr)
        return 2 if isinstance(e, INPUT_ERRORS) else 1


#: Each command's ``--help``: a description (unless its parser has one) and example lines.
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "demo": (
        "Writes OUT/index.html, one offline page per view (explorer, comparison, chat timeline, failure board) "
        "and source, and OUT/figure.png (TAM against CAM). Sources: the package's synthetic scene (objects at "
        "known places, so the maps mean something) and a tiny random checkpoint of each real model family "
        "(untrained: the maps carry no meaning, the pages show the pipeline running). No download, no GPU.",
        ("tam-widgets demo", "tam-widgets demo --out /tmp/tam-demo --families qwen2_vl llava"),
    ),
    "explain": (
        "Load a model (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, InternVL, LLaVA-1.5), let it answer a question about "
        "pictures or a video and explain every answer token with its token activation map. The record (.tam) "
        "opens again with tw.Explanation.load or `tam-widgets html`.",
        (
            'tam-widgets explain --model Qwen/Qwen2-VL-2B-Instruct --image cat.jpg --prompt "What is it?" '
            "--out out/cat.tam --html out/cat.html",
            'tam-widgets explain --model Qwen/Qwen2-VL-2B-Instruct --video clip.mp4 --prompt "What happens?" '
            "--out out/clip.tam --max-new-tokens 32",
            'tam-widgets explain --model llava-hf/llava-1.5-7b-hf --image a.jpg --image b.jpg --prompt "Compare them." '
            "--out out/ab.tam --png-dir out/ab_pngs --dtype bfloat16",
        ),
    ),
    "html": (
        "Write a saved explanation as one offline, interactive HTML page (the token map explorer): it opens in "
        "any browser without Python or a server.",
        ("tam-widgets html out/cat.tam", "tam-widgets html out/cat.tam --out cat.html --method cam --colormap viridis"),
    ),
    "timeline": (
        "Write a saved multi-turn chat (the record of explainer.chat(...)) as one offline chat timeline page: "
        "every turn's answer with its maps, the pictures of each turn.",
        ("tam-widgets timeline chat.tam", "tam-widgets timeline chat.tam --out chat.html --method eci_only"),
    ),
    "compare": (
        "Put several models' explanations of the same pictures and question side by side in one offline HTML "
        "page, their answers' words aligned.",
        (
            "tam-widgets compare qwen.tam internvl.tam llava.tam --labels Qwen InternVL LLaVA --html compare.html",
            "tam-widgets compare a.tam b.tam --html compare.html --word cat --scale shared",
        ),
    ),
    "board": (
        "",
        (
            "tam-widgets board --dataset okvqa --questions OpenEnded_mscoco_val2014_questions.json "
            "--annotations mscoco_val2014_annotations.json --images val2014/ --store study/annotations.jsonl "
            "--out board.html",
            "tam-widgets board --dataset star --star-json STAR_val.json --videos Charades_v1_480/ "
            "--store star/annotations.jsonl --out star.html --limit 200",
        ),
    ),
    "evaluate": (
        "",
        (
            "tam-widgets evaluate --model Qwen/Qwen2-VL-2B-Instruct --dataset coco --root /data/coco "
            "--out runs/qwen2vl --limit 100",
            "tam-widgets evaluate --model Qwen/Qwen2-VL-2B-Instruct --dataset coco --root /data/coco "
            "--out runs/official --compat official",
            "torchrun --nproc_per_node 2 -m tam_widgets evaluate --model Qwen/Qwen2-VL-2B-Instruct "
            "--dataset coco --root /data/coco --out runs/qwen2vl",
        ),
    ),
    "compare-runs": (
        "",
        (
            "tam-widgets compare-runs runs/qwen2vl runs/internvl --labels Qwen2-VL InternVL",
            "tam-widgets compare-runs runs/qwen2vl runs/internvl --html runs.html --figure words.png --words words.csv",
        ),
    ),
}


class _CommandList(argparse.HelpFormatter):
    """The top-level help: one line per command, without argparse's line for the ``COMMAND`` slot itself."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=20)
        self._action_max_length = 16  # room for "    compare-runs" before its help

    def _format_action(self, action: argparse.Action) -> str:
        text = super()._format_action(action)
        return text.split("\n", 1)[1] if isinstance(action, argparse._SubParsersAction) else text


def _describe(sub: argparse._SubParsersAction) -> None:
    """Give every command's ``--help`` its description and examples (from :data:`COMMANDS`)."""
    import textwrap

    for name, command in sub.choices.items():
        description, examples = COMMANDS.get(name, (None, ()))
        description = command.description or description
        if description:
            command.description = textwrap.fill(" ".join(description.split()), 78)
        if examples:
            lines = "\n".join(_shell_lines(line) for line in examples)
            command.epilog = f"examples:\n{lines}" + (f"\n\n{command.epilog}" if command.epilog else "")
        command.formatter_class = argparse.RawDescriptionHelpFormatter


def _shell_lines(command: str, width: int = 78) -> str:
    """An example command, indented and broken before options to fit ``width`` (shell continuations).

    >>> print(_shell_lines("tam-widgets html out/cat.tam --out 'my page.html' --method cam", width=44))
      tam-widgets html out/cat.tam \\
          --out 'my page.html' --method cam
    """
    import shlex

    groups: list[str] = []
    for token in (shlex.quote(t) for t in shlex.split(command)):
        if token.startswith("--") or not groups:
            groups.append(token)
        else:
            groups[-1] += " " + token
    lines, line = [], "  " + groups[0]
    for group in groups[1:]:
        if len(line) + len(group) + 3 > width:
            lines.append(line + " \\")
            line = "     "
        line += " " + group
    return "\n".join([*lines, line])


def _one_line(e: BaseException) -> str:
    """An exception as one readable line (its message, else its type)."""
    msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    msg = " ".join(msg.split())
    return msg or type(e).__name__


def _run(args) -> int:
    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "explain":
        return _explain(args)
    if args.command == "html":
        return _html(args)
    if args.command == "compare":
        return _compare(args)
    if args.command == "compare-runs":
        return _compare_runs(args)
    if args.command == "timeline":
        return _timeline(args)
    if args.command == "board":
        return _board(args)
    if args.command == "demo":
        return _demo(args)
    return 0


def _demo(args) -> int:
    import time

    from .demo import build_site

    out = Path(args.out).expanduser()
    if out.suffix.lower() in {".png", ".html"}:
        raise ValueError(f"--out {args.out}: give a folder; the demo writes a site (its figure is "
                         f"{Path(args.out).with_suffix('') / 'figure.png'})")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {args.out} is a file; give a folder, e.g. --out demo")
    t0 = time.perf_counter()
    with _quiet_transformers():
        index = build_site(out, families=args.families, say=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"wrote the demo site to {index.parent} in {time.perf_counter() - t0:.1f} s")
    print(f"open {index.resolve().as_uri()}")
    return 0


def _output_file(path: str | os.PathLike, option: str) -> Path:
    """An output file's path, its folder created now (before any work that writing it would waste)."""
    out = Path(path).expanduser()
    if out.is_dir():
        raise IsADirectoryError(f"{option} {path} is a folder; give a file name, e.g. {Path(path) / 'out.tam'}")
    if out.parent.exists() and not out.parent.is_dir():
        raise NotADirectoryError(f"{option} {path}: {out.parent} is a file, not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(out.parent, os.W_OK):
        raise PermissionError(f"{option} {path}: cannot write into {out.parent}")
    return out


def _video_frames(video: str) -> str | list[str]:
    """``--video``: a file, or a folder of frame pictures (in name order)."""
    path = Path(video).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"--video {video} does not exist")
    if not path.is_dir():
        return str(path)
    frames = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    if not frames:
        raise ValueError(f"--video {video} is a folder without .png/.jpg frames")
    return frames


def _explain(args) -> int:
    from .explain import load, load_picture, load_video, model_config
    from .models import SUPPORTED

    # Everything that can be checked without the model is checked first.
    if not args.image and not args.video:
        raise ValueError("pass --image PATH (one or more) or --video PATH")
    if not args.prompt.strip():
        raise ValueError("--prompt is empty: ask a question, e.g. --prompt 'Describe this image.'")
    if args.max_new_tokens < 1:
        raise ValueError(f"--max-new-tokens must be at least 1, got {args.max_new_tokens}")
    images = [load_picture(p) for p in args.image]
    video = load_video(_video_frames(args.video)) if args.video else None
    out = _output_file(args.out, "--out")
    html = _output_file(args.html, "--html") if args.html else None
    if args.png_dir and Path(args.png_dir).exists() and not Path(args.png_dir).is_dir():
        raise NotADirectoryError(f"--png-dir {args.png_dir} is a file, not a folder")
    config = model_config(args.model, trust_remote_code=args.trust_remote_code)
    adapter = SUPPORTED[config.model_type]
    if video is not None and not adapter.supports_video:
        raise ValueError(f"{adapter.family} models ({config.model_type}) do not take --video; pass --image instead")
    with _Status(f"loading {args.model}"), _quiet_transformers():
        explainer = load(args.model, device=args.device, dtype=args.dtype, trust_remote_code=args.trust_remote_code)
    with _Status(f"generating up to {args.max_new_tokens} tokens and explaining them"):
        exp = explainer.explain(
            images=images,
            video=video,
            prompt=args.prompt,
            max_new_tokens=args.max_new_tokens,
            allow_special_tokens=args.allow_special_tokens,
        )
    path = exp.save(out)
    print(f"answer: {exp.answer}")
    print(f"wrote {path}")
    if args.png_dir:
        written = exp.save_pngs(args.png_dir)
        print(f"wrote {len(written)} PNGs to {args.png_dir}")
    if html is not None:
        print(f"wrote {exp.to_html(html)}")
    return 0


def _html(args) -> int:
    from .record import Explanation

    exp = Explanation.load(args.record)
    out = _output_file(args.out or Path(args.record).with_suffix(".html"), "--out")
    print(f"wrote {exp.to_html(out, method=args.method, colormap=args.colormap)}")
    return 0


def _timeline(args) -> int:
    from .record import Explanation
    from .widgets.timeline import to_html

    exp = Explanation.load(args.record)
    out = _output_file(args.out or Path(args.record).with_suffix(".timeline.html"), "--out")
    print(f"wrote {to_html(exp, out, method=args.method, colormap=args.colormap)}")
    return 0


def _compare(args) -> int:
    from .record import Explanation
    from .widgets.compare import CompareView

    if args.labels is not None and len(args.labels) != len(args.records):
        raise ValueError(f"--labels takes one name per record: {len(args.records)} records, {len(args.labels)} labels")
    out = _output_file(args.html, "--html")
    exps = [Explanation.load(r) for r in args.records]
    view = CompareView(exps, labels=args.labels, allow_different_prompts=args.allow_different_prompts,
                       query=args.word, method=args.method, colormap=args.colormap, scale=args.scale, snapshot=False)
    if args.word and view.alignment.find(args.word) < 0:
        raise ValueError(f"--word {args.word!r}: no model said it; the answers' words are "
                         f"{sorted(set(view.alignment.keys))[:40]}")
    print(f"wrote {view.to_html(out)}")
    return 0


def _board(args) -> int:
    from . import studies
    from .widgets.board import FailureCaseBoard

    need = ("questions", "annotations", "images") if args.dataset == "okvqa" else ("star_json", "videos")
    missing = [f"--{k.replace('_', '-')}" for k in need if not getattr(args, k)]
    if missing:
        raise ValueError(f"--dataset {args.dataset} needs {', '.join(missing)}")
    if not Path(args.store).is_file():
        raise FileNotFoundError(f"--store {args.store} is not a file: give the study's annotations.jsonl")
    out = _output_file(args.out, "--out")
    kw = dict(store=args.store, threshold=args.threshold)
    if args.dataset == "okvqa":
        study = studies.okvqa(None, args.questions, args.annotations, args.images, args.limit, **kw)
    else:
        study = studies.star(None, args.star_json, args.videos, args.limit, args.prompt, **kw)
    board = FailureCaseBoard(study, snapshot=False)
    n = board._counts()
    print(f"wrote {board.to_html(out)} ({n['cases']} cases, {n['failed']} failed, {n['annotated']} annotated)")
    return 0


class _quiet_transformers:
    """Silence transformers' weight-loading progress bar (it garbles logs and the status line)."""

    def __enter__(self):
        from transformers.utils import logging

        self.was_on = logging.is_progress_bar_enabled()
        logging.disable_progress_bar()
        return self

    def __exit__(self, *exc):
        from transformers.utils import logging

        if self.was_on:
            logging.enable_progress_bar()
        return False


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
                save_records=args.save_records,
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
    """Progress of one stage on stderr: a ticking line on a terminal, one line when it ends in a log.

    >>> import io, contextlib
    >>> with contextlib.redirect_stderr(io.StringIO()) as err, _Status("loading"):
    ...     pass
    >>> err.getvalue().startswith("loading ... done in ")
    True
    """

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        import threading
        import time

        self.t0, self.done = time.perf_counter(), threading.Event()
        self.tty = bool(getattr(sys.stderr, "isatty", lambda: False)())
        self.thread = None
        if self.tty:

            def tick():
                while not self.done.wait(0.5):
                    elapsed = time.perf_counter() - self.t0
                    print(f"\r{self.what} ... {elapsed:.0f}s", end="", file=sys.stderr, flush=True)

            self.thread = threading.Thread(target=tick, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        import time

        self.done.set()
        if self.thread is not None:
            self.thread.join()
        status = "failed after" if exc[0] else "done in"
        start = "\r" if self.tty else ""
        print(f"{start}{self.what} ... {status} {time.perf_counter() - self.t0:.1f}s", file=sys.stderr, flush=True)
        return False


def _compare_runs(args) -> int:
    from .compare_runs import compare_runs

    outputs = {
        opt: _output_file(getattr(args, opt), f"--{opt}") for opt in ("html", "figure", "words") if getattr(args, opt)
    }
    cmp = compare_runs(args.runs, labels=args.labels, min_count=args.min_count)
    print(repr(cmp))
    if "html" in outputs:
        print(f"wrote {cmp.to_html(outputs['html'])}")
    if "figure" in outputs:
        cmp.figure().savefig(outputs["figure"])
        print(f"wrote {outputs['figure']}")
    if "words" in outputs:
        cmp.words.to_csv(outputs["words"], index=False)
        print(f"wrote {outputs['words']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
