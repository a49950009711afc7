"""Overhead of ``explain()`` over plain ``generate()``, per model family, on tiny random models.

Run: ``.venv/bin/python benchmarks/bench_explain.py [--tokens 32]``.

For each family it times, in the same process (median of repeats), a user's plain pipeline
(processor + ``model.generate``) and ``explainer.explain()`` producing the same number of tokens
(``min_new_tokens`` = ``max_new_tokens``), and prints the overhead. Tiny models make the model
itself nearly free, so the overhead here is an upper bound; on real 2B+ models it is far smaller.

Then, with a tiny Qwen2-VL whose vocabulary is resized to 256k, it measures the peak memory
growth (VmHWM, in a fresh process) of ``explain()`` and of plain ``generate()`` for two answer
lengths, beside what one ``[L, V]`` float32 logits tensor would take.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

from tam_widgets.testing.bench import PeakMemory, timed

FAMILIES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava", "internvl")


def _photo() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def _plain(explainer, image, prompt, n):
    """What a user would run without tam-widgets: template, processor, generate."""
    adapter = explainer.adapter
    messages = [{"role": "user", "content": adapter.content(prompt, 1, 0)}]
    text = adapter.render(messages)
    inputs = explainer.processor(text=[text], images=[image], return_tensors="pt")
    return explainer.model.generate(**inputs, max_new_tokens=n, min_new_tokens=n, do_sample=False)


def _memory_child(vocab: int, tokens: int, path: str) -> None:
    import torch

    import tam_widgets as tw
    from tam_widgets.testing import tiny_model

    explainer = tw.load(tiny_model("qwen2_vl"), max_new_tokens=tokens, min_new_tokens=tokens)
    explainer.model.resize_token_embeddings(vocab)
    torch.manual_seed(0)
    image = _photo()
    run = (
        (lambda: explainer.explain(image=image, prompt="Describe this image."))
        if path == "explain"
        else (lambda: _plain(explainer, image, "Describe this image.", tokens))
    )
    run()  # warm-up: lazy imports and allocator pools
    with PeakMemory() as peak:
        out = run()
    length = len(out.tokens) if path == "explain" else out.shape[1]
    print(json.dumps({"peak_mb": peak.mb, "length": length}))


def memory(vocab: int, tokens: int, path: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--memory", str(vocab), str(tokens), path],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32, help="answer length (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory:
        _memory_child(int(args.memory[0]), int(args.memory[1]), args.memory[2])
        return
    import torch

    import tam_widgets as tw
    from tam_widgets.testing import tiny_model

    torch.manual_seed(0)
    image, prompt, n = _photo(), "Describe this image.", args.tokens
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {n} new tokens; times in ms")
    print(f"{'family':12s} {'generate':>9s} {'explain':>9s} {'overhead':>9s}  {'TAM + record only':>17s}")
    for family in FAMILIES:
        explainer = tw.load(tiny_model(family), max_new_tokens=n, min_new_tokens=n)
        t_gen = timed(lambda e=explainer: _plain(e, image, prompt, n), args.repeats) * 1e3
        t_exp = timed(lambda e=explainer: e.explain(image=image, prompt=prompt), args.repeats) * 1e3
        chat = explainer.chat(image=image)
        chat.ask(prompt)
        t_build = (
            timed(lambda c=chat, g=explainer.generation: c._build(c.inputs["input_ids"][0], g), args.repeats) * 1e3
        )
        print(f"{family:12s} {t_gen:9.1f} {t_exp:9.1f} {100 * (t_exp / t_gen - 1):8.0f}%  {t_build:17.1f}")
    print("\npeak memory growth, tiny Qwen2-VL with V = 256,000 (MB):")
    print(f"{'new tokens':>10s} {'sequence':>9s} {'generate':>9s} {'explain':>9s} {'one [L, V] fp32':>16s}")
    for tokens in (16, 64):
        g = memory(256_000, tokens, "generate")
        e = memory(256_000, tokens, "explain")
        full = g["length"] * 256_000 * 4 / 2**20
        print(f"{tokens:10d} {g['length']:9d} {g['peak_mb']:9.1f} {e['peak_mb']:9.1f} {full:16.1f}")


if __name__ == "__main__":
    main()
