"""STAR (situated video question answering on Charades clips).

Example::

    from tam_widgets.datasets import STAR

    ds = STAR("/data/star", max_frames=8)
    s = ds[0]
    len(s.frames), s.prompt, s.answers, s.meta["answer_letter"]
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import numpy as np

from .base import EvalDataset, Sample, missing, read_json, require_dir

__all__ = ["STAR", "read_video_frames"]

_LAYOUT = """\
  <root>/STAR_val.json                      [{"question_id", "question", "video_id", "start", "end",
                                              "answer", "choices": [{"choice_id", "choice"}, ...]}, ...]
  <root>/Charades_v1_480/<video_id>.mp4"""


def read_video_frames(path: str | Path, start: float = 0.0, end: float | None = None, max_frames: int = 8):
    """Up to ``max_frames`` RGB frames evenly spaced in ``[start, end]`` seconds of a video (OpenCV).

    Returns ``(frames, frame_indices, fps)``. ``end=None`` means the end of the video; the range is
    clipped to the video. Frames are read sequentially (robust for codecs with inexact seeking).

    Example (illustrative: needs a video file)::

        frames, indices, fps = read_video_frames("clip.mp4", start=1.0, end=4.5, max_frames=8)
        len(frames), frames[0].shape
        # -> (8, (480, 640, 3))
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video not found: {path}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"OpenCV cannot open the video {path}")
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if n <= 0:  # unknown length: count by reading
            n = 0
            while cap.grab():
                n += 1
            cap.release()
            cap = cv2.VideoCapture(str(path))
        first = max(0, int(np.floor(start * fps)))
        last = n - 1 if end is None else min(n - 1, int(np.ceil(end * fps)) - 1)
        if first > n - 1:
            raise ValueError(f"{path}: no frames in [{start}, {end}] s (video has {n} frames at {fps:g} fps)")
        last = max(last, first)
        k = max(1, min(max_frames, last - first + 1))
        want = sorted({int(round(x)) for x in np.linspace(first, last, k)})
        frames, got, pos = [], [], 0
        wanted = set(want)
        while pos <= want[-1] and cap.grab():
            if pos in wanted:
                ok, bgr = cap.retrieve()
                if ok:
                    frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    got.append(pos)
            pos += 1
    finally:
        cap.release()
    if not frames:
        raise ValueError(f"{path}: could not decode frames {want}")
    return frames, got, fps


class STAR(EvalDataset):
    """STAR video QA: frames of each question's clip, the question with lettered choices.

    Args:
        root: dataset root (``STAR_val.json`` and ``Charades_v1_480/``).
        ann_file: annotation file name under ``root`` (``STAR_val.json``).
        max_frames: frames sampled evenly between ``start`` and ``end`` seconds.
        suffix: appended to the prompt (e.g. "Answer with the option's letter.").
        video_dir: override the video directory.
        shard: ``(i, n)``; load_pixels: False skips decoding videos.

    The prompt is ``question + "\\n" + "A. choice\\nB. choice..."`` (choices ordered by
    ``choice_id``); ``answers = [answer]``; ``meta`` has ``answer_letter``, ``choices``,
    ``video_id``, ``start``, ``end`` and after loading ``frame_indices`` and ``fps``.

    Example (illustrative: needs STAR and the Charades videos)::

        ds = STAR("/data/star", max_frames=8)
        s = ds[0]; len(s.frames), s.answers, s.meta["answer_letter"]
    """

    #: The expected folder layout (shown in error messages and ``tam-widgets evaluate --help``).
    LAYOUT = _LAYOUT

    def __init__(
        self,
        root: str | Path,
        ann_file: str = "STAR_val.json",
        max_frames: int = 8,
        suffix: str = "",
        video_dir: str | Path | None = None,
        shard: tuple[int, int] | None = None,
        load_pixels: bool = True,
    ) -> None:
        super().__init__(shard=shard, load_pixels=load_pixels)
        self.root = Path(root)
        self.max_frames, self.suffix = int(max_frames), suffix
        if self.max_frames < 1:
            raise ValueError("max_frames must be >= 1")
        if not self.root.is_dir():
            raise missing(self.root, _LAYOUT, "STAR root directory")
        data = read_json(self.root / ann_file, _LAYOUT)
        if not isinstance(data, list):
            raise ValueError(f"{self.root / ann_file}: expected a list of questions; expected layout:\n{_LAYOUT}")
        self.video_dir = require_dir(
            Path(video_dir) if video_dir is not None else self.root / "Charades_v1_480", _LAYOUT
        )
        records = []
        for q in data:
            choices = q.get("choices", [])
            if choices and all(isinstance(c, dict) and "choice_id" in c for c in choices):
                choices = sorted(choices, key=lambda c: c["choice_id"])
            texts = [str(c["choice"]) if isinstance(c, dict) else str(c) for c in choices]
            answer = str(q["answer"])
            letters = string.ascii_uppercase
            options = "\n".join(f"{letters[i]}. {t}" for i, t in enumerate(texts))
            prompt = str(q["question"]) + (("\n" + options) if options else "") + suffix
            records.append(
                dict(
                    id=str(q["question_id"]),
                    prompt=prompt,
                    answer=answer,
                    answer_letter=letters[texts.index(answer)] if answer in texts else None,
                    choices=texts,
                    video_id=str(q["video_id"]),
                    start=float(q.get("start", 0.0)),
                    end=None if q.get("end") is None else float(q["end"]),
                    question=str(q["question"]),
                )
            )
        self._set_records(records)

    def _load(self, rec: dict[str, Any]) -> Sample:
        path = self.video_dir / f"{rec['video_id']}.mp4"
        meta = {k: rec[k] for k in ("question", "answer_letter", "choices", "video_id", "start", "end")}
        meta["video_path"] = str(path)
        frames = None
        if self.load_pixels:
            frames, idx, fps = read_video_frames(path, rec["start"], rec["end"], self.max_frames)
            meta.update(frame_indices=idx, fps=fps)
        return Sample(id=rec["id"], prompt=rec["prompt"], frames=frames, answers=[rec["answer"]], meta=meta)
