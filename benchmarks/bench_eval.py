"""Time of the plausibility metric per caption (target 20 ms), and end-to-end samples per second.

Run: ``.venv/bin/python benchmarks/bench_eval.py [--repeats N]`` (needs the NLTK data: set ``NLTK_DATA``).

Case: a 20-word caption (+ "." and EOS, one token per word), one 24x32 uint8 map per token, a 480x640 label mask
with five COCO categories mentioned in the caption. Prints the first call (tagger and WordNet loading) and the
median over repeats of ``score_caption`` in default and official mode. Then the whole
``evaluate`` loop (explain + score + append) on a synthetic COCO-style set with the tiny Qwen2-VL.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time

import numpy as np

CAPTION = "A small white cat is sitting on a red sofa next to a black dog and a man holding a bike ."
TARGET_MS = 20.0


def _nltk_data() -> None:
    shared = pathlib.Path(__file__).resolve().parents[2] / "shared" / "nltk_data"
    if "NLTK_DATA" not in os.environ and shared.is_dir():
        os.environ["NLTK_DATA"] = str(shared)


def word_tokenizer(words: list[str]):
    """A word-level tokenizer (``▁word`` pieces, one token per word) with ``<|im_end|>`` as EOS."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<|im_end|>": 1}
    for w in words:
        vocab.setdefault("\u2581" + w, len(vocab))
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer, tk.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", unk_token="<unk>")


def make_case(seed: int = 0):
    tok = word_tokenizer(CAPTION.split())
    ids = tok(CAPTION, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    rng = np.random.default_rng(seed)
    maps = rng.integers(0, 60, (len(ids), 24, 32), dtype=np.uint8)
    for i in range(len(ids)):
        r, c = rng.integers(0, 16), rng.integers(0, 24)
        maps[i, r : r + 8, c : c + 8] = rng.integers(150, 256)
    mask = np.zeros((480, 640), np.uint8)
    for label, (r, c) in {17: (40, 40), 63: (200, 40), 18: (40, 360), 1: (260, 300), 2: (300, 480)}.items():
        mask[r : r + 160, c : c + 150] = label
    return maps, ids, tok, mask


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--samples", type=int, default=12, help="samples for the end-to-end run")
    args = ap.parse_args(argv)
    _nltk_data()
    from tam_widgets.metrics import COCO_CATEGORIES, score_caption

    maps, ids, tok, mask = make_case()
    n_words = len(CAPTION.split()) - 1
    print(f"caption: {n_words} words + '.' + EOS = {len(ids)} tokens, maps {maps.shape[1:]}, mask {mask.shape}")
    ok = True
    for compat in ("default", "official"):
        t0 = time.perf_counter()
        s = score_caption(maps, ids, tok, mask, COCO_CATEGORIES, compat=compat)
        first = (time.perf_counter() - t0) * 1e3
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            score_caption(maps, ids, tok, mask, COCO_CATEGORIES, compat=compat)
            times.append((time.perf_counter() - t0) * 1e3)
        med = statistics.median(times)
        ok &= med < TARGET_MS
        print(
            f"{compat:>8}: median {med:6.2f} ms per caption (target < {TARGET_MS:g} ms: "
            f"{'ok' if med < TARGET_MS else 'MISSED'}), first call {first:7.1f} ms; "
            f"{len(s.obj_iou)} Obj-IoU, {len(s.func_iou)} Func-IoU entries"
        )
    end_to_end(args.samples)
    return 0 if ok else 1


def end_to_end(n: int) -> None:
    """Samples per second of ``tam_widgets.evaluate.run`` with the tiny Qwen2-VL (16 new tokens)."""
    import tempfile

    import tam_widgets as tw
    from tam_widgets.evaluate import open_dataset, run
    from tam_widgets.testing import tiny_model
    from tam_widgets.testing.datasets import coco_formatted

    with tempfile.TemporaryDirectory() as tmp:
        root = coco_formatted(pathlib.Path(tmp) / "coco", copies=max(1, n // 3))
        explainer = tw.load(tiny_model("qwen2_vl"), max_new_tokens=16)
        ds = open_dataset("coco", root)
        run(explainer, ds, pathlib.Path(tmp) / "warm", max_new_tokens=16, progress=False, limit=1)
        t0 = time.perf_counter()
        run(explainer, ds, pathlib.Path(tmp) / "out", max_new_tokens=16, progress=False)
        dt = time.perf_counter() - t0
        print(
            f"end to end (tiny qwen2_vl, 16 new tokens): {len(ds)} samples in {dt:.2f} s = {len(ds) / dt:.1f} samples/s"
        )


if __name__ == "__main__":
    sys.exit(main())
