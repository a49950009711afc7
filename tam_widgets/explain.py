"""Run a vision-language model, capture its last hidden states, and build an ``Explanation``.

import tam_widgets as tw
explainer = tw.load("Qwen/Qwen2-VL-2B-Instruct")
exp = explainer.explain(image="street.jpg", prompt="Describe this image.")
chat = explainer.chat(images=["a.jpg", "b.jpg"])
chat.ask("What differs?"); chat.ask("Which is older?")
chat.subscribe(print); chat.ask("And the sky?", stream=True)   # maps computed as the model writes

Inputs are checked before anything runs: pictures keep their range or are refused
(:mod:`tam_widgets.pictures`), prompts are text (a chat-format control string such as
``<|im_end|>`` is refused unless ``allow_special_tokens=True``), and a failed ``ask`` leaves the
chat as it was. Records of the tiny random test checkpoints carry ``metadata["untrained"]``.
"""

from __future__ import annotations

import inspect
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from .core.incremental import IncrementalTAM, TAMRows
from .methods.activation import _head, tam_result
from .methods.common import normalize_rows
from .models import Adapter, VisualSpan, adapter_for
from .pictures import to_rgb8
from .record import METHOD_INFO, Explanation, Token, VisualGrid
from .words import group_words

#: a path, a numpy array ([H, W] or [H, W, 1..4]), a PIL image or a torch tensor ([C, H, W]); see
#: :func:`tam_widgets.pictures.to_rgb8` for the ranges kept and what is refused
PictureLike = str | os.PathLike | np.ndarray | torch.Tensor  # or a PIL image
#: the maps stored for every explained token: the method vocabulary of the record
#: (:data:`tam_widgets.record.METHOD_INFO`), each a method of :mod:`tam_widgets.methods`
RECORD_METHODS = tuple(METHOD_INFO)
MAX_STORED_SIDE = 768


# -- inputs ------------------------------------------------------------------------------------
def load_picture(p: PictureLike) -> np.ndarray:
    """An RGB uint8 ``[H, W, 3]`` array from a path, a PIL image, an array or a tensor.

    The one conversion rule is :func:`tam_widgets.pictures.to_rgb8` (ranges kept, the rest refused).

    >>> load_picture(np.ones((2, 2), bool)).shape
    (2, 2, 3)
    """
    return to_rgb8(p)


def load_video(v, max_frames: int = 16) -> list[np.ndarray]:
    """Frames of a video: a list/array of frames, or a file path read with OpenCV."""
    if isinstance(v, (str, os.PathLike)):
        import cv2

        path = Path(v)
        if not path.exists():
            raise FileNotFoundError(f"video {path} does not exist")
        cap = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        cap.release()
        if not frames:
            raise ValueError(f"could not read any frame from {path}")
        if len(frames) > max_frames:
            keep = np.linspace(0, len(frames) - 1, max_frames).round().astype(int)
            frames = [frames[i] for i in keep]
        return frames
    frames = [load_picture(f) for f in v]
    if not frames:
        raise ValueError("the video has no frames")
    return frames


def _downscale(picture: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    import cv2

    h, w = picture.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale == 1.0:
        return picture, 1.0
    return cv2.resize(picture, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA), scale


# -- generation with capture -------------------------------------------------------------------
class TopK:
    """A logits processor that records each step's top-k tokens and probabilities (every row of the
    batch), changing nothing."""

    def __init__(self, k: int = 3):
        self.k = k
        self.ids: list[torch.Tensor] = []  # per step: [batch, k]
        self.probs: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        p, i = scores.float().softmax(-1).topk(self.k)
        self.ids.append(i.cpu())
        self.probs.append(p.cpu())
        return scores

    def rows(self, b: int = 0, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Batch row ``b``'s ``[steps, k]`` candidate ids and probabilities (all steps by default)."""
        steps = len(self.ids) if steps is None else steps
        if not steps:
            return np.zeros((0, self.k), np.int64), np.zeros((0, self.k), np.float32)
        ids = torch.stack([x[b] for x in self.ids[:steps]]).numpy()
        return ids, torch.stack([x[b] for x in self.probs[:steps]]).numpy()


class NoPlaceholders:
    """A logits processor that keeps the model from writing media placeholders (after :class:`TopK` has
    recorded the candidates as the model gave them): an answer holding one could not be continued."""

    def __init__(self, ids: Sequence[int]):
        self.ids = torch.as_tensor(list(ids), dtype=torch.long)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if self.ids.numel():
            if self.ids.device != scores.device:
                self.ids = self.ids.to(scores.device)
            scores.index_fill_(1, self.ids, -torch.inf)
        return scores


# transformers reads every logits processor's signature at every generated token; a stored one is read at once.
for _processor in (TopK, NoPlaceholders):
    _processor.__call__.__signature__ = inspect.signature(_processor.__call__)  # type: ignore[attr-defined]


@dataclass
class _Segment:
    """One processed chunk of a chat: its inputs, pictures and visual spans."""

    inputs: dict
    images: list[np.ndarray]
    videos: list[list[np.ndarray]]
    spans: list[VisualSpan]
    user_mask: np.ndarray  # True at the user's own text tokens
    start: int  # position of the segment's first token in the conversation
    stored: list[np.ndarray]  # the downscaled pictures kept in the record
    grids: list[VisualGrid]  # the record's view of ``spans``


@dataclass
class _Prepared:
    """An ask ready to generate (:meth:`Chat._prepare`); :meth:`Chat._finish` makes its record."""

    prompt: str
    messages: list[dict]  # the conversation with the new question
    inputs: dict  # the whole conversation's processed inputs, batch of 1
    answer_start: int
    settings: dict
    live: _Live | None


@dataclass(frozen=True)
class ChatEvent:
    """What a :class:`Chat` tells its subscribers (:meth:`Chat.subscribe`) while a turn is asked.

    Attributes:
        kind: ``"start"`` (the turn begins), ``"token"`` (a token was generated: streaming asks
            only), ``"end"`` (the turn is answered) or ``"error"`` (it failed; the chat is as before).
        turn: 0-based index of the turn being asked.
        explanation: start: the conversation before the turn (None on a new chat's first turn);
            token: the conversation so far with the partial turn, every generated token explained;
            end: the final record, the one ``ask`` returns; error: None.
        error: the exception (error only); ``ask`` re-raises it.
        stopped: end only: the turn was ended by :meth:`Chat.stop`.

    >>> ChatEvent("start", 0)
    ChatEvent(kind='start', turn=0, explanation=None, error=None, stopped=False)
    """

    kind: Literal["start", "token", "end", "error"]
    turn: int
    explanation: Explanation | None = None
    error: BaseException | None = None
    stopped: bool = False


class _TokenEvent(ChatEvent):
    """A ``token`` event whose record is made when first read (then kept): a subscriber that does not
    read it (a timeline between its pushes) costs the ask nothing. Read it before the chat's next ask."""

    def __init__(self, turn: int, make: Callable[[], Explanation]):
        for name, value in (("kind", "token"), ("turn", turn), ("error", None), ("stopped", False),
                            ("_make", make), ("_made", None), ("_lock", threading.Lock())):
            object.__setattr__(self, name, value)

    @property
    def explanation(self) -> Explanation:  # type: ignore[override]
        with self._lock:
            if self._made is None:
                object.__setattr__(self, "_made", self._make())
                object.__setattr__(self, "_make", None)
            return self._made

    def __repr__(self) -> str:
        return f"ChatEvent(kind='token', turn={self.turn}, explanation=<made when read>, error=None, stopped=False)"


@dataclass
class _Turn:
    prompt: str
    answer_start: int
    answer_end: int
    candidate_ids: np.ndarray
    candidate_probs: np.ndarray
    result: _TurnMaps | None = None  # computed once, when the turn is answered


@dataclass
class _TurnMaps:
    """One turn's maps and relevances, by sequence position (independent of later turns)."""

    maps: dict[str, np.ndarray]  # method -> [n, n_visual seen so far]
    positions: np.ndarray  # the explained tokens
    context_positions: np.ndarray
    text_relevance: np.ndarray  # [n, n_context]


class Explainer:
    """A loaded model with its adapter; explains single questions and chats.

    Args:
        model, processor: a transformers image-text-to-text model and its processor.
        model_id: for the record's metadata.
        compat: ``"default"`` (TAM plus the CAM baseline and the ECI-only / filter-only ablations)
            or ``"reference"`` (the official code's maps and token choice, bit for bit).
        max_new_tokens, do_sample, ...: default generation settings (greedy by default).

    Usually made by :func:`load`; from a model you loaded yourself (illustrative: needs the weights):

    >>> from transformers import AutoModelForImageTextToText, AutoProcessor
    >>> model = AutoModelForImageTextToText.from_pretrained("Qwen/Qwen2-VL-2B-Instruct")  # doctest: +SKIP
    >>> processor = AutoProcessor.from_pretrained("Qwen/Qwen2-VL-2B-Instruct")  # doctest: +SKIP
    >>> explainer = Explainer(model, processor, model_id="Qwen/Qwen2-VL-2B-Instruct")  # doctest: +SKIP
    >>> exp = explainer.explain("street.jpg", "Describe the image.")  # doctest: +SKIP
    >>> exp.answer, exp.maps["tam"].shape  # doctest: +SKIP
    ('A busy street with ...', (n_answer_tokens, n_visual_tokens))
    """

    def __init__(self, model, processor, model_id: str = "", compat: str = "default", **generation):
        if compat not in ("default", "reference", "official"):
            raise ValueError(f"unknown compat mode {compat!r}; choose 'default' or 'reference'")
        self.compat = compat
        self.model = model.eval()
        self.processor = processor
        self.adapter: Adapter = adapter_for(model, processor)
        self.model_id = model_id or getattr(model.config, "_name_or_path", "")
        self.generation = {"max_new_tokens": 64, "do_sample": False, **generation}
        self._texts: dict = {}  # the tokenizer's decodes, kept across asks (see _texts_memo)

    def _texts_memo(self, limit: int = 200_000) -> dict:
        """The memo of :func:`token_pieces` and candidate texts: decodes by id (and id pair) of this
        explainer's tokenizer, the same in every ask; emptied when it holds more than ``limit`` pairs."""
        if len(self._texts.get("pairs", ())) > limit:
            self._texts.clear()
        return self._texts

    def __repr__(self) -> str:
        return f"Explainer({self.model_id!r}, family={self.adapter.family}, device={self.model.device})"

    def explain(
        self,
        image: PictureLike | None = None,
        prompt: str = "",
        *,
        images: Sequence[PictureLike] | None = None,
        video=None,
        repeat_frames: bool = False,
        allow_special_tokens: bool = False,
        **generation,
    ) -> Explanation:
        """Ask ``prompt`` about an image (or ``images``, or a ``video``) and explain the answer.

        The prompt is text: a control string of the chat format in it (``<|im_end|>``, ``<image>``, ...)
        is refused unless ``allow_special_tokens=True``. ``generation`` overrides the explainer's
        generation settings (``max_new_tokens=...``).
        """
        chat = self.chat(image=image, images=images, video=video, repeat_frames=repeat_frames)
        return chat.ask(prompt, allow_special_tokens=allow_special_tokens, **generation)

    def batch_problem(self, **generation) -> str | None:
        """Why :meth:`explain_batch` would run one input at a time with these settings, or None if it batches.

            explainer.batch_problem()               # None: greedy decoding batches
            explainer.batch_problem(do_sample=True)  # 'sampling (do_sample=True) draws other random numbers ...'
        """
        settings = {**self.generation, **generation}
        if settings.get("do_sample"):
            return "sampling (do_sample=True) draws other random numbers in a batch than alone"
        if int(settings.get("num_beams", 1) or 1) != 1:
            return "beam search (num_beams > 1) is not batched"
        other = sorted(k for k in settings if k not in BATCHABLE_SETTINGS)
        if other:
            return f"the generation setting(s) {', '.join(other)} may act differently on a padded batch"
        return self.adapter.batch_problem()

    def explain_batch(
        self, requests: Sequence[dict], **generation
    ) -> list[Explanation | ValueError | TypeError | RuntimeError]:
        """Explain several questions with one batched ``generate`` (a GPU-sized batch).

        ``requests`` are dicts of :meth:`explain`'s arguments (``image``/``images``/``video``, ``prompt``,
        ``allow_special_tokens``); ``generation`` applies to all. The inputs are left-padded into one
        batch with an attention mask; each request's states, visual-token positions and candidates are
        cut back out of it, so each result is the record ``explain(**request, **generation)`` makes: the
        same answer tokens, the maps equal up to float rounding. Not bit for bit: the padded rows run
        through masked attention kernels and other matrix shapes, which sum in another order (about
        1e-6 relative in float32, more in bfloat16); a greedy choice between two nearly tied tokens
        could then differ. Pictures of different sizes share a batch (each family's processor
        concatenates them). A request that fails (unreadable picture, refused prompt) gives its
        exception in its place. When the settings or the family cannot batch (:meth:`batch_problem`),
        or the batch fails as a whole (e.g. out of memory), the requests run one at a time, with a warning.

            exps = explainer.explain_batch([{"image": "a.jpg", "prompt": "What is it?"},
                                            {"image": "b.jpg", "prompt": "Who is this?"}], max_new_tokens=8)
        """
        results: list = [None] * len(requests)
        problem = self.batch_problem(**generation) if len(requests) > 1 else None
        if problem:
            warnings.warn(f"explaining one case at a time: {problem}", RuntimeWarning, stacklevel=2)
        steps: list[tuple[int, Chat, _Prepared]] = []
        for k, request in enumerate(requests):
            request = dict(request)
            try:
                if problem or len(requests) == 1:
                    results[k] = self.explain(**request, **generation)
                    continue
                prompt = request.pop("prompt", "")
                allow = bool(request.pop("allow_special_tokens", False))
                chat = self.chat(**request)
                steps.append((k, chat, chat._prepare(prompt, chat._check(prompt, None, allow), generation, False)))
            except (ValueError, TypeError, RuntimeError, OSError) as err:
                results[k] = err
        outs = None
        if len(steps) > 1:
            try:
                outs = _generate(self, [st.inputs for _, _, st in steps], steps[0][2].settings)
            except (ValueError, RuntimeError) as err:
                warnings.warn(
                    f"the batch of {len(steps)} failed ({type(err).__name__}: {err}); explaining them one at a time",
                    RuntimeWarning,
                    stacklevel=2,
                )
        for i, (k, chat, step) in enumerate(steps):
            try:
                if outs is None:
                    ((seq, hidden, topk),) = _generate(self, [step.inputs], step.settings, chat=chat)
                else:
                    seq, hidden, topk = outs[i]
                results[k] = chat._finish(step, seq, hidden, topk)
            except (ValueError, TypeError, RuntimeError) as err:
                results[k] = err
        return results

    def chat(self, image=None, *, images=None, video=None, repeat_frames: bool = False) -> Chat:
        """Start a multi-turn chat about these pictures; each :meth:`Chat.ask` extends one record.

        The pictures are read (and bad ones refused) here, before any question is asked.
        """
        pics = ([image] if image is not None else []) + list(images or [])
        return Chat(self, pics, video, repeat_frames=repeat_frames)


class Chat:
    """A conversation whose every answer is explained, with all earlier turns as context.

    A failed :meth:`ask` (bad picture, bad setting, an error inside generation) leaves the chat exactly
    as it was, so the next ask works. Pictures passed to an ask belong to that turn
    (``VisualGrid.turn``). :meth:`subscribe` follows every ask as :class:`ChatEvent` s (with
    ``ask(stream=True)``, one per generated token, its maps made as it comes); :meth:`stop` ends
    the running ask at the next token; :attr:`busy` says whether one runs.

    Example (illustrative: needs a model's weights):

    >>> import tam_widgets as tw
    >>> chat = tw.load("Qwen/Qwen2-VL-2B-Instruct").chat("street.jpg")  # doctest: +SKIP
    >>> chat.ask("What is in the picture?")  # doctest: +SKIP
    >>> chat.ask("What colour is the car?")  # the first turn is context  # doctest: +SKIP
    >>> tw.ChatTimeline(chat)  # one view of all turns, with a question box  # doctest: +SKIP
    """

    def __init__(self, explainer: Explainer, images: list, video=None, repeat_frames: bool = False):
        self.explainer = explainer
        self.adapter = explainer.adapter
        if video is not None and not self.adapter.supports_video:
            raise ValueError(f"{self.adapter.family} models do not take video input; pass images instead")
        self._pending_images = [load_picture(p) for p in images]
        frames = load_video(video) if video is not None else None
        if frames is not None and repeat_frames:
            frames = [f for f in frames for _ in range(2)]
        self._pending_videos = [frames] if frames is not None else []
        self.messages: list[dict] = []
        self.segments: list[_Segment] = []
        self.turns: list[_Turn] = []
        self.inputs: dict | None = None
        self.hidden: torch.Tensor | None = None  # last hidden states of the whole conversation
        self.explanation: Explanation | None = None
        self._subscribers: list[Callable[[ChatEvent], object]] = []
        self._lock = threading.Lock()
        self._busy = False
        self._stop = threading.Event()
        self._stopped = False  # the running ask was ended by stop()

    @property
    def busy(self) -> bool:
        """Whether an :meth:`ask` is running (a second one is refused until it ends)."""
        return self._busy

    def stop(self) -> None:
        """End the running :meth:`ask` at the next generated token (thread-safe; a no-op when none runs).

        What was generated is kept as a complete turn: the record is consistent and the chat can go on.
        """
        with self._lock:
            if self._busy:
                self._stop.set()

    def timeline(self, **view):
        """The conversation as a live :class:`tam_widgets.ChatTimeline` (a question box asks this chat).

            chat = explainer.chat(image="street.jpg")
            chat.ask("Describe the image.")
            chat.timeline()   # later asks, from the page or from Python, appear token by token
        """
        from .widgets.timeline import ChatTimeline  # the view is only needed when shown

        return ChatTimeline(self, **view)

    def subscribe(self, fn: Callable[[ChatEvent], object]) -> Callable[[], None]:
        """Call ``fn(event)`` with every :class:`ChatEvent` of every later ask; returns the unsubscribe function.

        Events come from the thread running :meth:`ask`: ``start``, then (``stream=True`` only) one
        ``token`` per generated token, then ``end`` or ``error``. A subscriber that raises is reported
        with ``warnings.warn`` and does not break the ask.

            unsubscribe = chat.subscribe(lambda e: print(e.kind, e.turn))
            chat.ask("What is in the picture?", stream=True)
            unsubscribe()
        """
        if not callable(fn):
            raise TypeError(f"subscribe takes a function of one ChatEvent, got {type(fn).__name__}")
        entry = [fn]  # identity of this subscription (the same fn may be subscribed twice)
        self._subscribers.append(entry)

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers[:] = [e for e in self._subscribers if e is not entry]

        return unsubscribe

    def _emit(self, event: ChatEvent) -> None:
        for (fn,) in list(self._subscribers):
            try:
                fn(event)
            except Exception as err:  # a broken subscriber must not break the conversation
                warnings.warn(
                    f"a chat subscriber ({fn!r}) raised {type(err).__name__} on a {event.kind!r} event: {err}; "
                    "the ask goes on",
                    RuntimeWarning,
                    stacklevel=3,
                )

    def _segment_text(self, messages: list[dict]) -> str:
        """What the chat template adds after the conversation so far (all of it on the first turn)."""
        full = self.adapter.render(messages, add_generation_prompt=True)
        if not self.turns:
            return full
        previous = self.adapter.render(messages[:-1], add_generation_prompt=False)
        answer = self.messages[-1]["content"][0]["text"]
        cut = previous.rfind(answer)
        if cut < 0 or not full.startswith(previous[: cut + len(answer)]):
            raise RuntimeError("the chat template does not extend the previous conversation; cannot continue")
        return full[cut + len(answer) :]

    def ask(
        self,
        prompt: str,
        images: Sequence[PictureLike] | None = None,
        *,
        stream: bool = False,
        allow_special_tokens: bool = False,
        **generation,
    ) -> Explanation:
        """Ask the next question (optionally with new images); returns the updated explanation.

        The input is checked before anything changes, and a failure anywhere (even inside generation)
        restores the chat as it was. A prompt holding a control string of the chat format (``<|im_end|>``,
        ``<image>``) is refused unless ``allow_special_tokens=True``.

        With ``stream=True`` each generated token's maps are computed as soon as it is generated (TAM
        for a token needs only the tokens before it) and subscribers (:meth:`subscribe`) get a
        ``token`` event with the conversation so far; the returned record is the one a plain ask
        makes. :meth:`stop` ends any ask at the next token. One ask runs at a time: a second one,
        e.g. from another thread, raises ``RuntimeError``.
        """
        with self._lock:
            if self._busy:
                raise RuntimeError(
                    "this chat is already answering a question (an ask is running, e.g. in another thread): "
                    "wait for it to end, or call chat.stop() to end it at the next token"
                )
            self._busy = True
            self._stop.clear()
            self._stopped = False
        turn = len(self.turns)
        saved = (self.messages, list(self.segments), list(self.turns), self.inputs, self.hidden, self.explanation)
        try:
            self._emit(ChatEvent("start", turn, self.explanation))
            try:
                new_images = self._check(prompt, images, allow_special_tokens)
                exp = self._ask(prompt, new_images, generation, bool(stream))
            except BaseException as err:
                self.messages, self.segments, self.turns, self.inputs, self.hidden, self.explanation = saved
                with self._lock:
                    self._busy = False
                self._emit(ChatEvent("error", turn, error=err))
                raise
            with self._lock:
                self._busy = False
            self._emit(ChatEvent("end", turn, exp, stopped=self._stopped))
            return exp
        finally:
            with self._lock:
                self._busy = False

    def _check(self, prompt: str, images: Sequence[PictureLike] | None, allow_special_tokens: bool) -> list[np.ndarray]:
        """The new pictures of an ask, once its prompt and pictures are known to be acceptable."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("the prompt is empty: ask a question, e.g. 'Describe this image.'")
        if not allow_special_tokens:
            self.adapter.check_user_text(prompt)
        new_images = [load_picture(p) for p in (images or [])]
        if not self.segments and not self._pending_images and not new_images and not self._pending_videos:
            raise ValueError(
                "no picture to explain: pass image=..., images=[...] or video=... to explain() / chat(), "
                "or images=[...] to the first ask()"
            )
        return new_images

    def _ask(self, prompt: str, images: list[np.ndarray], generation: dict, stream: bool) -> Explanation:
        step = self._prepare(prompt, images, generation, stream)
        ((sequence, hidden, topk),) = _generate(self.explainer, [step.inputs], step.settings, step.live, self)
        return self._finish(step, sequence, hidden, topk)

    def _prepare(self, prompt: str, images: list[np.ndarray], generation: dict, stream: bool) -> _Prepared:
        """An ask up to generation: its inputs, with the new segment joined to the chat."""
        new_images = self._pending_images + images
        new_videos = self._pending_videos
        content = self.adapter.content(prompt, len(new_images), len(new_videos))
        messages = [*self.messages, {"role": "user", "content": content}]
        text = self._segment_text(messages)
        seg_inputs = self.adapter.process(text, new_images, new_videos, first=not self.turns)
        user_mask = self._user_mask(text, prompt, seg_inputs)
        ids = seg_inputs["input_ids"]
        if self.turns:
            # The previous answer ends with the generated end-of-turn token; the template's own
            # text for it starts the new segment, so drop the generated one.
            prev = self.inputs
            eos = int(prev["input_ids"][0, -1])
            if eos in self.adapter.special_ids() and ids.shape[1] and int(ids[0, 0]) == eos:
                prev = self.adapter.resize_tokens(prev, prev["input_ids"].shape[1] - 1)
            offset = prev["input_ids"].shape[1]
            merged = self.adapter.merge(prev, seg_inputs)
        else:
            offset, merged = 0, seg_inputs
        spans = self.adapter.visual_spans(ids[0].numpy(), seg_inputs, new_images, new_videos)
        for s in spans:
            s.positions = s.positions + offset
        settings = {**self.explainer.generation, **generation}
        if stream and int(settings.get("num_beams", 1) or 1) != 1:
            raise ValueError("stream=True follows one sequence as it is written: leave num_beams at 1")
        stored, grids = self._record_grids(new_images, new_videos, spans)
        # The new segment joins the chat now (ask() restores the chat if anything below fails).
        self.segments.append(_Segment(seg_inputs, new_images, new_videos, spans, user_mask, offset, stored, grids))
        answer_start = merged["input_ids"].shape[1]
        live = _Live(self, prompt, answer_start, settings, merged) if stream else None
        return _Prepared(prompt, messages, merged, answer_start, settings, live)

    def _finish(self, step: _Prepared, sequence: torch.Tensor, hidden: torch.Tensor, topk) -> Explanation:
        """An ask after generation: the turn's maps and the record (``topk``: the answer's candidates)."""
        prompt, messages, merged, answer_start = step.prompt, step.messages, step.inputs, step.answer_start
        settings, live = step.settings, step.live
        answer_text = self.adapter.tokenizer.decode(sequence[answer_start:], skip_special_tokens=True).strip()
        self.messages = [*messages, {"role": "assistant", "content": [{"type": "text", "text": answer_text}]}]
        self.inputs = self.adapter.resize_tokens(merged, len(sequence), sequence)
        turn = _Turn(prompt, answer_start, len(sequence), topk[0], topk[1])
        # The latest pass covers the whole conversation causally: its hidden states at earlier
        # turns are those of their own passes, so one tensor serves every turn.
        self.hidden = hidden
        # A plain ask makes its maps as a stream nobody read does, after generation: the same code, the same maps
        # (None in reference mode: the batch computation in _build makes them).
        live = live or _Live(self, prompt, answer_start, settings, merged)
        with live.lock:
            turn.result = live.final(sequence, hidden)
        self.turns.append(turn)
        with live.lock:
            self.explanation = self._build(sequence, settings, cache=live.cache)
        self._pending_images, self._pending_videos = [], []
        return self.explanation

    def _context(self, seq: np.ndarray, answer_start: int, turns: list[_Turn] | None = None) -> np.ndarray:
        """Positions of the text that may leak into the maps of an answer starting at ``answer_start``."""
        role = self._roles(seq, self.turns if turns is None else turns)[:answer_start]
        return np.flatnonzero((role == "prompt") | (role == "answer"))

    def _engine(self, hidden: torch.Tensor, seq: np.ndarray, answer_start: int) -> IncrementalTAM:
        """The incremental TAM of an answer starting at ``answer_start`` (hidden: the pass's states so far)."""
        spans = [s for seg in self.segments for s in seg.spans if s.positions[0] < answer_start]
        visual = np.concatenate([s.positions for s in spans])
        ctx = self._context(seq, answer_start)
        head = _head(self.adapter)
        index = torch.from_numpy(np.concatenate([visual, ctx - 1])).to(hidden.device)
        states = hidden.index_select(0, index)
        bias = getattr(head, "bias", None)
        return IncrementalTAM(
            states[: len(visual)],
            head.weight.detach(),
            [tuple(s.grid) for s in spans],
            seq[ctx],
            states[len(visual) :],
            None if bias is None else bias.detach(),
        )

    def _record_grids(self, images, videos, spans) -> tuple[list[np.ndarray], list[VisualGrid]]:
        """Downscaled pictures of a new segment and its grids, numbered after the earlier segments.

        The grids belong to the turn being asked (``VisualGrid.turn``).
        """
        turn = len(self.turns)
        first_picture = sum(len(seg.stored) for seg in self.segments)
        offset = sum(g.size for seg in self.segments for g in seg.grids)
        counts: dict[str, int] = {}
        for seg in self.segments:
            for g in seg.grids:
                counts[g.kind] = counts.get(g.kind, 0) + 1
        pictures = list(images) + [f for frames in videos for f in frames]
        stored, scales = zip(*(_downscale(p, MAX_STORED_SIDE) for p in pictures)) if pictures else ((), ())
        video_start = np.cumsum([len(images)] + [len(v) for v in videos])  # local index of each video's frame 0
        grids = []
        for s in spans:
            local = (
                [int(video_start[s.source]) + f for f in s.frames] if s.kind == "video" else [s.source] * len(s.frames)
            )
            boxes = np.array([b * scales[i] for b, i in zip(s.boxes, local)], dtype=np.float32)
            counts[s.kind] = counts.get(s.kind, 0) + 1
            grid = tuple(int(x) for x in s.grid)
            label = f"{s.kind} {counts[s.kind]}"
            grids.append(VisualGrid(s.kind, label, offset, grid, [first_picture + i for i in local], boxes, turn))
            offset += len(s.positions)
        return list(stored), grids

    def _reference_maps(self, inp) -> _TurnMaps:
        """``compat="reference"``: the official code's maps (its own choice of tokens) and their plain CAM.

        The official code explains the first prompt token of its context, which in a later turn is a
        token of the first turn, explained there already: each turn keeps only the rows of its own
        tokens (those after the previous answer), so every token of the record is explained once.
        The default mode's maps come from :class:`~tam_widgets.core.incremental.IncrementalTAM`
        (:meth:`_engine`), token by token.
        """
        base = tam_result(inp, compat=self.explainer.compat)
        raw = base.flat_raw_maps
        lo, hi = raw.min(1, keepdims=True), raw.max(1, keepdims=True)
        maps = {"tam": base.flat_maps / 255.0, "cam": (raw - lo) / np.maximum(hi - lo, 1e-12)}
        own = base.token_positions >= max(seg.start for seg in self.segments if seg.start < inp.answer_start)
        maps = {k: v[own].astype(np.float32) for k, v in maps.items()}
        return _TurnMaps(maps, base.token_positions[own], base.context_positions, base.text_relevance[own])

    def method_input(self, turn: int = -1):
        """The state of an answered turn for the map-making methods (:mod:`tam_widgets.methods`)."""
        if not self.turns:
            raise ValueError("nothing answered yet: call ask() first")
        return self._method_input(self.turns[turn], self.inputs, self.hidden, self.turns)

    def _method_input(self, t: _Turn, inputs: dict, hidden: torch.Tensor, turns: list[_Turn]):
        from .methods.base import MethodInput

        spans = [s for seg in self.segments for s in seg.spans if s.positions[0] < t.answer_start]
        return MethodInput(
            self.explainer.model,
            self.adapter,
            self.adapter.resize_tokens(inputs, t.answer_end),
            hidden[: t.answer_end - 1],
            np.concatenate([s.positions for s in spans]),
            [tuple(s.grid) for s in spans],
            self._context(inputs["input_ids"][0].numpy(), t.answer_start, turns),
            t.answer_start,
            t.answer_end,
        )

    def _roles(self, seq: np.ndarray, turns: list[_Turn] | None = None) -> np.ndarray:
        """Each position's role: "prompt" (the user's text), "answer" (generated), "special"."""
        role = np.full(len(seq), "special", dtype=object)
        for seg in self.segments:
            role[seg.start : seg.start + len(seg.user_mask)][seg.user_mask] = "prompt"
        specials = self.adapter.special_ids()
        for t in self.turns if turns is None else turns:
            role[t.answer_start : t.answer_end] = "answer"
            for p in range(t.answer_start, t.answer_end):
                if int(seq[p]) in specials:
                    role[p] = "special"
        return role

    @staticmethod
    def _user_mask(text: str, prompt: str, inputs: dict) -> np.ndarray:
        """Which tokens of a processed segment are the user's own text (by character offsets)."""
        offsets = np.asarray(inputs.pop("offset_mapping")[0]).reshape(-1, 2)
        replacements = inputs.pop("text_replacement_offsets", None)
        # With no media the processor turns the empty list into an empty tensor.
        replacements = replacements[0] if isinstance(replacements, list) and replacements else []
        mask = np.zeros(len(offsets), bool)
        start = text.rfind(prompt)
        if start < 0:
            return mask
        end = start + len(prompt)
        # The processor expanded each media placeholder; shift the prompt's span accordingly.
        shift = sum(
            (r["new_span"][1] - r["new_span"][0]) - (r["span"][1] - r["span"][0])
            for r in replacements
            if r["span"][1] <= start
        )
        start, end = start + shift, end + shift
        mask[(offsets[:, 0] < end) & (offsets[:, 1] > start) & (offsets[:, 1] > offsets[:, 0])] = True
        return mask

    # -- the record ----------------------------------------------------------------------------
    def _before_last(self, seq: np.ndarray, turns: list[_Turn], n_vis: int) -> dict:
        """The record's part before the last turn's answer: its tokens and the earlier turns' rows."""
        start = turns[-1].answer_start
        visual = np.concatenate([s.positions for seg in self.segments for s in seg.spans] or [np.zeros(0, np.int64)])
        is_visual = np.zeros(start, bool)
        is_visual[visual[visual < start]] = True
        role = self._roles(seq[:start], turns[:-1])
        turn_of = np.zeros(start, int)
        for k, seg in enumerate(self.segments):
            turn_of[seg.start :] = k
        text_pos = np.flatnonzero(~is_visual)
        pieces = token_pieces(self.adapter.tokenizer, seq, text_pos, memo=self.explainer._texts_memo())
        tokens = [
            Token(text, int(seq[p]), str(role[p]), int(turn_of[p]), int(p), raw_bytes=b)
            for (text, b), p in zip(pieces, text_pos)
        ]
        parts = [self._turn_part(t, text_pos, n_vis) for t in turns[:-1]]
        methods = RECORD_METHODS if self.explainer.compat == "default" else ("tam", "cam")
        return {
            "tokens": tokens,
            "text_pos": text_pos,
            "explained": [i for part in parts for i in part["explained"]],
            "maps": {m: np.concatenate([np.zeros((0, n_vis))] + [p["maps"][m] for p in parts]).astype(np.float16)
                     for m in methods},
            "rel": np.concatenate([np.zeros((0, len(tokens)))] + [p["rel"] for p in parts]).astype(np.float16),
            "cand_ids": np.concatenate([np.zeros((0, 3), np.int64)] + [p["cand_ids"] for p in parts]),
            "cand_probs": np.concatenate([np.zeros((0, 3), np.float32)] + [p["cand_probs"] for p in parts]),
        }

    def _turn_part(self, t: _Turn, text_pos: np.ndarray, n_vis: int) -> dict:
        """One answered turn's rows of the record: explained tokens, maps, relevance, candidates.

        ``text_pos``: the sequence position of each token of the record (sorted).
        """
        if t.result is None:
            t.result = self._reference_maps(self._method_input(t, self.inputs, self.hidden, self.turns))
        r = t.result
        rel = np.zeros((len(r.positions), len(text_pos)), np.float32)
        rel[:, np.searchsorted(text_pos, r.context_positions)] = r.text_relevance
        # Candidates come from the generation step that produced each token (none for others).
        step = r.positions - t.answer_start
        ok = (step >= 0) & (step < len(t.candidate_ids))
        ids = np.full((len(step), 3), -1, np.int64)
        probs = np.zeros((len(step), 3), np.float32)
        ids[ok], probs[ok] = t.candidate_ids[step[ok]], t.candidate_probs[step[ok]]
        return {
            "explained": np.searchsorted(text_pos, r.positions).tolist(),
            "maps": {name: _pad(flat, n_vis) for name, flat in r.maps.items()},
            "rel": rel,
            "cand_ids": ids,
            "cand_probs": probs,
        }

    def _build(
        self, sequence: torch.Tensor, settings: dict, turns: list[_Turn] | None = None, cache: dict | None = None
    ) -> Explanation:
        """The record of the conversation ``sequence`` answered in ``turns`` (the chat's by default).

        ``cache`` (a dict kept across calls for the same turn) saves re-reading the text before the
        last answer while a streaming turn grows; the tokens' texts are kept by the explainer.
        """
        turns = self.turns if turns is None else turns
        cache = {} if cache is None else cache
        seq = sequence.numpy()
        n = len(seq)
        tok = self.adapter.tokenizer
        last = turns[-1]
        grids = [g for seg in self.segments for g in seg.grids]
        images = [im for seg in self.segments for im in seg.stored]
        n_vis = sum(g.size for g in grids)
        # Everything before the last answer is the same at every token of a streaming turn (the
        # text before it ends with the template's own tokens, never a byte fragment, so it reads
        # the same whatever follows): it is made once per turn and kept in ``cache``.
        key = (len(turns), last.answer_start, n_vis)
        if cache.get("before", (None,))[0] != key:
            cache["before"] = (key, self._before_last(seq, turns, n_vis))
        before = cache["before"][1]
        tail = np.arange(last.answer_start, n)
        role = self._roles(seq, [last])[last.answer_start :]
        turn_of = len(self.segments) - 1
        memo = self.explainer._texts_memo()
        pieces = token_pieces(tok, seq, tail, memo=memo)
        tokens = before["tokens"] + [
            Token(text, int(seq[p]), str(r), turn_of, int(p), raw_bytes=b)
            for (text, b), p, r in zip(pieces, tail, role)
        ]
        if last.result is None:
            last.result = self._reference_maps(self._method_input(last, self.inputs, self.hidden, turns))
        part = self._turn_part(last, np.concatenate([before["text_pos"], tail]), n_vis)
        texts = memo.setdefault("candidates", {})
        cand_ids_all = np.concatenate([before["cand_ids"], part["cand_ids"]])
        rel = np.zeros((len(before["explained"]) + len(part["explained"]), len(tokens)), np.float16)
        rel[: len(before["explained"]), : before["rel"].shape[1]] = before["rel"]
        rel[len(before["explained"]) :] = part["rel"]
        model = self.explainer.model
        import transformers

        from ._version import __version__

        metadata = {
            "model_id": self.explainer.model_id,
            "model_type": model.config.model_type,
            "revision": getattr(model.config, "_commit_hash", None),
            "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
            "generation": {k: v for k, v in settings.items() if isinstance(v, (int, float, str, bool, type(None)))},
            "prompts": [t.prompt for t in turns],
            "answer_spans": [[t.answer_start, t.answer_end] for t in turns],
            "compat": self.explainer.compat,
            "tam_widgets": __version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }
        if is_untrained(model):
            metadata["untrained"] = True  # views warn: the maps of random weights mean nothing
        return Explanation(
            tokens=tokens,
            explained=np.asarray(before["explained"] + part["explained"], np.int64),
            maps={k: np.concatenate([before["maps"][k], part["maps"][k].astype(np.float16)]) for k in part["maps"]},
            text_relevance=rel,
            grids=grids,
            images=images,
            candidate_ids=cand_ids_all,
            candidate_probs=np.concatenate([before["cand_probs"], part["cand_probs"]]).astype(np.float32),
            candidate_texts=[[_cached(texts, int(i), lambda i=int(i): candidate_text(tok, i)) for i in row]
                             for row in cand_ids_all],
            words=group_words(tokens),
            metadata=metadata,
        )


# -- generation (one ask, or a batch of first asks) -------------------------------------------
#: generation settings that mean the same for a row of a left-padded batch as for a lone input;
#: anything else (sampling, beams, max_length, repetition penalties that see the padding, custom
#: processors or stopping criteria) makes :meth:`Explainer.explain_batch` run one input at a time
BATCHABLE_SETTINGS = frozenset(
    {"max_new_tokens", "min_new_tokens", "do_sample", "num_beams", "temperature", "top_p", "top_k", "eos_token_id",
     "use_cache"}
)


def _eos_ids(model, settings: dict) -> set[int]:
    """The tokens that end a generated answer under these settings (the model's generation config's)."""
    eos = settings.get("eos_token_id", getattr(model.generation_config, "eos_token_id", None))
    if eos is None:
        return set()
    return {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos])}


def _generate(
    explainer: Explainer, batch: list[dict], settings: dict, live: _Live | None = None, chat: Chat | None = None
) -> list[tuple[torch.Tensor, torch.Tensor, tuple[np.ndarray, np.ndarray]]]:
    """Generate for one or more processed inputs in one ``generate`` call, capturing the final-norm states.

    Several inputs are left-padded into one batch (:meth:`Adapter.collate`) with an attention mask;
    each gets back what it alone gives: its sequence (its prompt, unpadded, and its answer up to
    its own end-of-turn token), the states of its fed tokens and its answer's top-3 candidates.
    ``live.step`` sees each token of a lone input as it comes; ``chat.stop()`` ends it.
    """
    from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

    model, adapter = explainer.model, explainer.adapter
    states: list[torch.Tensor] = []  # per forward pass: [batch, tokens, hidden]
    hook = adapter.final_norm().register_forward_hook(lambda m, a, out: states.append(out.detach()))
    topk = TopK(3)

    class Steps(StoppingCriteria):
        """After each generated token: its live maps and events, then stop() if asked."""

        def __call__(self, input_ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
            if live is not None:
                live.step(input_ids, states, topk)
            stop = chat is not None and chat._stop.is_set()
            if chat is not None:
                chat._stopped = chat._stopped or stop
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    settings = dict(settings)
    processors = LogitsProcessorList([*(settings.pop("logits_processor", None) or []), topk,
                                      NoPlaceholders(adapter.placeholder_ids())])
    criteria = StoppingCriteriaList([*(settings.pop("stopping_criteria", None) or []), Steps()])
    lengths = [int(x["input_ids"].shape[1]) for x in batch]
    extra: dict = {}
    if len(batch) == 1:
        inputs = batch[0]
    else:
        pad = _pad_id(adapter)
        inputs = adapter.collate(batch, pad)
        extra["pad_token_id"] = pad
    device = model.device
    inputs = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in inputs.items()}
    try:
        with torch.no_grad():  # not inference_mode: gradient methods re-run these tensors
            out = model.generate(**inputs, logits_processor=processors, stopping_criteria=criteria, **settings, **extra)
    finally:
        hook.remove()
    sequences = (out.sequences if hasattr(out, "sequences") else out).cpu()
    width = int(inputs["input_ids"].shape[1])
    eos = _eos_ids(model, settings) if len(batch) > 1 else set()
    results = []
    for b, n in enumerate(lengths):
        new = sequences[b, width:]
        if eos:  # a row that ended early goes on with padding: cut it at its own end
            ends = [j for j, t in enumerate(new.tolist()) if t in eos]
            new = new[: ends[0] + 1] if ends else new
        sequence = torch.cat([sequences[b, width - n : width], new])
        n_fed = len(sequence) - 1
        parts = [states[0][b, width - n :]] + [s[b] for s in states[1 : len(new)]]
        hidden = torch.cat(parts, 0) if states else torch.zeros(0)
        if hidden.shape[0] < n_fed:
            raise RuntimeError(f"captured {hidden.shape[0]} hidden states for {n_fed} fed tokens")
        results.append((sequence, hidden[:n_fed], topk.rows(b, len(new))))
    return results


def _pad_id(adapter: Adapter) -> int:
    """The id that left-pads a batch (masked out: its value changes nothing)."""
    tok = adapter.tokenizer
    for candidate in (getattr(tok, "pad_token_id", None), getattr(tok, "eos_token_id", None)):
        if candidate is not None:
            return int(candidate)
    return 0


def _record_maps(rows: TAMRows) -> dict[str, np.ndarray]:
    """The record's map kinds (:data:`RECORD_METHODS`) from :class:`IncrementalTAM` rows."""
    return {"tam": rows.tam, "cam": normalize_rows(rows.raw), "eci_only": rows.unfiltered, "filter_only": rows.no_eci}


def _engine_maps(maps: dict[str, list[np.ndarray]], texts: list[np.ndarray], ctx, answer_start: int,
                 k: int | None = None) -> _TurnMaps:
    """A turn's stored maps from consecutive chunks of rows (:func:`_record_maps` and each chunk's
    text relevance over the context before its tokens, padded to the turn's whole context: the
    prompt's text, then the answer), of its first ``k`` tokens (all by default)."""
    k = sum(len(t) for t in texts) if k is None else k
    positions = np.arange(answer_start, answer_start + k)
    context = np.concatenate([ctx, positions])
    text = np.zeros((k, len(context)), np.float32)
    i = 0
    for t in texts:
        if i >= k:
            break
        cols = min(t.shape[1], len(context))  # a chunk's later rows may see more context than the first k do
        text[i : i + len(t), :cols] = t[: k - i, :cols]
        i += len(t)
    return _TurnMaps({m: np.concatenate(v)[:k] for m, v in maps.items()}, positions, context, text)


class _Live:
    """One streaming ask: a ``token`` event per generated token, whose maps are made when its record is read.

    The incremental maps (:class:`IncrementalTAM`) take the tokens in order, as far as the newest record
    read (or, at the end, the whole answer): with nobody reading, the streamed turn costs what a plain ask
    does, and its maps are the same.
    """

    def __init__(self, chat: Chat, prompt: str, answer_start: int, settings: dict, inputs: dict):
        self.chat, self.prompt, self.answer_start = chat, prompt, answer_start
        self.settings, self.inputs = settings, inputs
        self.turn = len(chat.turns)
        self.reference = chat.explainer.compat != "default"
        self.engine: IncrementalTAM | None = None
        self.ctx = np.zeros(0, np.int64)
        self.n_taken = 0  # tokens the engine has taken
        self.n_done = 0  # tokens whose maps are made, kept in chunks:
        self.maps: dict[str, list[np.ndarray]] = {}
        self.texts: list[np.ndarray] = []
        self.cache: dict = {}  # for Chat._build
        self.lock = threading.RLock()  # records of token events are made on the reader's thread
        self.n_segments = len(chat.segments)

    def step(self, input_ids: torch.Tensor, states: list[torch.Tensor], topk: TopK) -> None:
        """After each generated token (``input_ids``: the batch so far, ``states``: the captured
        ``[batch, tokens, hidden]`` states of each pass): its ``token`` event, if anyone subscribes."""
        chat = self.chat
        if not chat._subscribers:
            return  # nobody looks: the maps are made at the end (and nothing is copied per token)
        # A lone input: batch row 0.
        ids, probs = [x[0] for x in topk.ids], [x[0] for x in topk.probs]
        seq, states, turns = input_ids[0].cpu().clone(), [s[0] for s in states], list(chat.turns)
        chat._emit(_TokenEvent(self.turn, lambda: self.record(seq, states, ids, probs, turns)))

    def record(self, seq: torch.Tensor, states: list[torch.Tensor], ids: list, probs: list,
               turns: list[_Turn]) -> Explanation:
        """The conversation up to the token ``seq[-1]`` (what its event's ``explanation`` reads)."""
        with self.lock:
            if len(self.chat.segments) != self.n_segments:
                raise RuntimeError(
                    "a token event's record is made when it is first read, and this chat has gone on to another "
                    "ask since: read event.explanation in the subscriber, or before the next ask"
                )
            partial = _Turn(self.prompt, self.answer_start, len(seq), torch.stack(ids).numpy(),
                            torch.stack(probs).numpy(), self._maps(seq, states, turns))
            return self.chat._build(seq, self.settings, [*turns, partial], self.cache)

    def _take(self, seq: torch.Tensor, hidden: torch.Tensor) -> None:
        """Give the engine the answer's tokens up to ``seq[-1]`` (``hidden``: the states that predicted them)."""
        chat = self.chat
        if self.engine is None:  # the prefill's states hold the whole prompt
            if hidden.shape[0] < self.answer_start:
                raise RuntimeError(f"captured {hidden.shape[0]} prompt states for {self.answer_start} tokens")
            self.engine = chat._engine(hidden, seq.numpy(), self.answer_start)
            self.ctx = chat._context(seq.numpy(), self.answer_start)
        start = self.answer_start + self.n_taken  # in order, as a plain ask takes them
        self.engine.extend(seq[start:].numpy(), hidden[start - 1 : len(seq) - 1])
        self.n_taken = max(self.n_taken, len(seq) - self.answer_start)

    def _maps(self, seq: torch.Tensor, states: list[torch.Tensor], turns: list[_Turn]) -> _TurnMaps:
        """The maps of the answer so far (``seq`` the conversation up to its latest token, ``states`` the
        captured hidden states; ``turns`` the answered turns before it), whichever token's record was made before."""
        chat, n = self.chat, len(seq)
        if self.reference:  # compat="reference": the official computation on the turn so far
            t = _Turn(self.prompt, self.answer_start, n, np.zeros((0, 3), np.int64), np.zeros((0, 3), np.float32))
            inputs = chat.adapter.resize_tokens(self.inputs, n, seq)
            return chat._reference_maps(chat._method_input(t, inputs, torch.cat(states, 0), [*turns, t]))
        k = n - self.answer_start
        if self.n_taken < k:
            self._take(seq, states[0] if len(states) == 1 else torch.cat(states, 0))
        if self.n_done < k:  # rows are the same made alone, as tokens come, or together at the end
            rows = self.engine.rows(self.n_done, k)
            for m, v in _record_maps(rows).items():
                self.maps.setdefault(m, []).append(v)
            self.texts.append(rows.text_relevance)
            self.n_done = k
        return _engine_maps(self.maps, self.texts, self.ctx, self.answer_start, k)

    def final(self, seq: torch.Tensor, hidden: torch.Tensor) -> _TurnMaps | None:
        """The final maps of the turn (None in reference mode: the batch computation makes them)."""
        return None if self.reference else self._maps(seq, [hidden], self.chat.turns)


def token_texts(tokenizer, ids: np.ndarray, positions: Sequence[int] | None = None) -> list[str]:
    """The text of the tokens at ``positions`` (all by default) as it reads in context.

    See :func:`token_pieces`; joined, the texts of consecutive tokens equal the tokenizer's decode.
    """
    return [text for text, _ in token_pieces(tokenizer, ids, positions)]


def token_pieces(
    tokenizer, ids: np.ndarray, positions: Sequence[int] | None = None, *, memo: dict | None = None
) -> list[tuple[str, bytes | None]]:
    """``(text, raw_bytes)`` of the tokens at ``positions`` (all by default), as they read in context.

    A token is decoded after its predecessor and the predecessor's text removed, so word-initial
    pieces keep the space a lone decode would strip (SentencePiece). A token that is not whole
    characters on its own (a byte fragment of a multi-byte character) gets its bytes as
    ``raw_bytes``; its text is the characters it completes (``""`` while a character is still
    incomplete), so the texts joined equal the decode of the ids instead of repeating ``"\ufffd"``.
    Decodes are cached by id (in ``memo``, a dict, to keep them across calls with one tokenizer).
    """
    import codecs

    ids = [int(t) for t in ids]
    memo = {} if memo is None else memo
    alone: dict[int, str] = memo.setdefault("alone", {})
    raw: dict[int, bytes | None] = memo.setdefault("raw", {})
    pairs: dict[tuple[int, int], str] = memo.setdefault("pairs", {})

    def decode_alone(t: int) -> str:
        if t not in alone:
            alone[t] = tokenizer.decode([t])
        return alone[t]

    def fragment(t: int) -> bytes | None:
        """The token's bytes if they are not whole characters, else None."""
        if t not in raw:
            b = token_bytes(tokenizer, t) if "\ufffd" in decode_alone(t) or not decode_alone(t) else None
            raw[t] = b if b and not _is_utf8(b) else None
        return raw[t]

    out: list[tuple[str, bytes | None]] = []
    group: list[int] = []  # indices in ``out`` of the current run of fragments
    utf8 = codecs.getincrementaldecoder("utf-8")("replace")

    def close() -> None:
        if group:
            text, b = out[group[-1]]
            out[group[-1]] = (text + utf8.decode(b"", final=True), b)
            group.clear()
            utf8.reset()

    last = None
    for p in range(len(ids)) if positions is None else positions:
        t = ids[p]
        b = fragment(t)
        if b is None or last is None or p != last + 1:
            close()
        last = p
        if b is not None:
            group.append(len(out))
            out.append((utf8.decode(b), b))
            continue
        if p == 0:
            out.append((decode_alone(t), None))
            continue
        prev = decode_alone(ids[p - 1])
        if (ids[p - 1], t) not in pairs:
            pairs[ids[p - 1], t] = tokenizer.decode([ids[p - 1], t])
        pair = pairs[ids[p - 1], t]
        out.append((pair[len(prev) :] if pair.startswith(prev) else decode_alone(t), None))
    close()
    return out


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _byte_decoder() -> dict[str, int]:
    """The GPT-2 byte-level BPE alphabet, character -> byte."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, n = list(keep), 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(keep, chars)}


_BYTE_LEVEL = _byte_decoder()


def token_bytes(tokenizer, token_id: int) -> bytes | None:
    """The bytes a token stands for, or None when the tokenizer's scheme is not known.

    Byte-level BPE pieces (``"Ã"``) map through the GPT-2 byte alphabet, SentencePiece byte-fallback
    pieces (``"<0xE9>"``) are their byte, other SentencePiece pieces their text with ``▁`` as a space.
    """
    piece = tokenizer.convert_ids_to_tokens(int(token_id))
    if not isinstance(piece, str):
        return None
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        try:
            return bytes([int(piece[3:5], 16)])
        except ValueError:
            pass
    if int(token_id) in getattr(tokenizer, "added_tokens_decoder", {}):
        return piece.encode()
    backend = getattr(tokenizer, "backend_tokenizer", None)
    decoder = str(getattr(backend, "decoder", "")) if backend is not None else ""
    if "ByteLevel" in decoder:
        if all(c in _BYTE_LEVEL for c in piece):
            return bytes(_BYTE_LEVEL[c] for c in piece)
        return None
    if "▁" in decoder or "ByteFallback" in decoder:
        return piece.replace("▁", " ").encode()
    return None


def candidate_text(tokenizer, token_id: int) -> str:
    """A candidate token as views show it: its lone decode, or ``<0xE9>`` labels for a byte fragment.

    >>> candidate_text(None, -1)
    ''
    """
    if token_id < 0:
        return ""
    text = tokenizer.decode([int(token_id)])
    if "\ufffd" in text or not text:
        b = token_bytes(tokenizer, token_id)
        if b and not _is_utf8(b):
            return Token(text, int(token_id), "answer", 0, 0, raw_bytes=b).label
    return text


def is_untrained(model) -> bool:
    """Whether the model's checkpoint is marked untrained (the tiny random test checkpoints are).

    >>> from types import SimpleNamespace
    >>> is_untrained(SimpleNamespace(config=SimpleNamespace(tam_widgets_untrained=True)))
    True
    """
    from .testing.tiny import UNTRAINED_KEY

    return bool(getattr(model.config, UNTRAINED_KEY, False))


def _cached(store: dict, key, make):
    if key not in store:
        store[key] = make()
    return store[key]


def _pad(flat: np.ndarray, n_visual: int) -> np.ndarray:
    """Maps over the visual tokens seen so far, padded with 0 for later images."""
    out = np.zeros((flat.shape[0], n_visual), np.float32)
    out[:, : flat.shape[1]] = flat
    return out


def check_local_path(model_id: str | os.PathLike) -> None:
    """Refuse a model id that is meant as a local folder but is not one, before transformers reads it as a Hub id.

    A path-like id (starting with ``.``, ``/`` or ``~``, ending with a separator, or whose first folder exists
    here) must be an existing folder with a ``config.json``; ``org/name`` Hub ids pass through.

    >>> check_local_path("./no/such/model")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such folder: ./no/such/model (a local model path; a Hub id reads like 'org/name')
    """
    text = os.fspath(model_id)
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{text} has no config.json: not a model folder (save_pretrained writes one)")
        return
    if path.exists():
        raise ValueError(f"{text} is a file; a model is a folder (with config.json) or a Hub id like 'org/name'")
    seps = tuple({os.sep, "/"} | ({os.altsep} if os.altsep else set()))
    first = text.replace(os.sep, "/").split("/")[0]
    looks_local = (
        isinstance(model_id, os.PathLike)
        or text.startswith((".", "/", "~"))
        or text.endswith(seps)
        or (any(s in text for s in seps) and first not in ("", ".", "..") and Path(first).exists())
    )
    if looks_local:
        raise FileNotFoundError(f"no such folder: {text} (a local model path; a Hub id reads like 'org/name')")


def model_config(model_id: str | os.PathLike, *, revision: str | None = None, trust_remote_code: bool = False):
    """The checkpoint's config, once it is known to be a supported family without unwanted remote code.

    Cheap (reads ``config.json`` only): the command line checks its inputs against it before loading weights.
    ``SUPPORTED[config.model_type]`` is the family's adapter class.
    """
    from transformers import AutoConfig

    from .models import SUPPORTED

    check_local_path(model_id)
    try:
        config = AutoConfig.from_pretrained(model_id, revision=revision, trust_remote_code=trust_remote_code)
    except ValueError as exc:
        if "trust_remote_code" in str(exc) and not trust_remote_code:
            raise ValueError(
                f"{model_id} needs custom code from its repository (trust_remote_code). tam-widgets does "
                "not run remote code unless you ask: pass trust_remote_code=True if you trust it, or use "
                "the transformers-native checkpoint (e.g. an '-hf' variant)."
            ) from exc
        raise
    if getattr(config, "auto_map", None) and not trust_remote_code:
        raise ValueError(f"{model_id} ships custom code (auto_map); pass trust_remote_code=True if you trust it")
    if config.model_type not in SUPPORTED:
        raise ValueError(
            f"unsupported model_type {config.model_type!r} for {model_id}. Supported: "
            f"{', '.join(sorted(SUPPORTED))}. Register an adapter with tam_widgets.models.register_adapter."
        )
    return config


def load(
    model_id: str | os.PathLike,
    *,
    device: str = "auto",
    dtype: str | torch.dtype = "auto",
    revision: str | None = None,
    trust_remote_code: bool = False,
    compat: str = "default",
    **generation,
) -> Explainer:
    """Load a supported vision-language model from the Hub or a local path, ready to explain.

    ``device="auto"`` takes the GPU when there is one; ``dtype="auto"`` is bfloat16 on a GPU
    that supports it and float32 otherwise. Checkpoints that need ``trust_remote_code`` are
    refused unless you pass ``trust_remote_code=True``. A local path that does not exist is
    refused as such (not as an unknown Hub repository)::

        explainer = tw.load("Qwen/Qwen2-VL-2B-Instruct", max_new_tokens=32)
        explainer = tw.load("./checkpoints/my-llava")

    Example (illustrative: downloads the weights):

    >>> import tam_widgets as tw
    >>> exp = tw.load("Qwen/Qwen2-VL-2B-Instruct").explain("street.jpg", "Describe the image.")  # doctest: +SKIP
    >>> exp.save("street.tam"); exp.show()  # doctest: +SKIP
    """
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model_config(model_id, revision=revision, trust_remote_code=trust_remote_code)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "auto":
        dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
    elif isinstance(dtype, str):
        if not isinstance(getattr(torch, dtype, None), torch.dtype):
            raise ValueError(f"unknown dtype {dtype!r}: use 'auto', 'float32', 'bfloat16' or 'float16'")
        dtype = getattr(torch, dtype)
    processor = AutoProcessor.from_pretrained(model_id, revision=revision, trust_remote_code=trust_remote_code)
    model = AutoModelForImageTextToText.from_pretrained(
        model_id, revision=revision, dtype=dtype, trust_remote_code=trust_remote_code
    ).to(device)
    return Explainer(model, processor, model_id=str(model_id), compat=compat, **generation)
