"""A stand-in for ``tam_widgets.explain.Chat`` that needs no model: hand-made multi-turn records, streamed.

:class:`FakeChat` implements the chat contract the timeline widget relies on (``ask(prompt, images,
*, stream)``, ``explanation``, ``busy``, ``stop()``, ``subscribe(fn)`` with ``start`` / ``token`` /
``end`` / ``error`` events) over :func:`conversation_record`, a Qwen-style conversation whose pictures
each carry the turn that added them (``grid.turn``). Each answer row's map is faint noise with one hot
cell on the pictures its token could see, and exactly zero on pictures added in later turns.

>>> chat = FakeChat(answer_tokens=3)
>>> seen = []
>>> off = chat.subscribe(lambda ev: seen.append(ev.kind))
>>> exp = chat.ask("Describe the image.", stream=True)
>>> exp = chat.ask("Which dog is fatter?", images=[None])
>>> seen, [g.turn for g in exp.grids], exp.answer.split()
(['start', 'token', 'token', 'token', 'end', 'start', 'end'], [0, 1], ['w0', 'w1', 'w2', 'w0', 'w1', 'w2'])
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..record import Explanation, Token, VisualGrid
from .records import picture

_SPECIAL = {"<|im_start|>", "<|im_end|>", "user", "assistant", "\n"}


@dataclass
class Turn:
    """One turn of a :func:`conversation_record`: the user's text, the answer (words or a count), new pictures."""

    prompt: str
    answer: list[str] | int
    images: int = 0
    closed: bool = True


@dataclass
class ChatEvent:
    """What a chat tells its subscribers (the contract of ``Chat.subscribe``)."""

    kind: str
    turn: int
    explanation: Explanation | None
    error: BaseException | None = None
    stopped: bool = False


def _answer_words(answer: list[str] | int) -> list[str]:
    return list(answer) if not isinstance(answer, int) else [f" w{k}" for k in range(answer)]


def conversation_record(
    turns: Sequence[Turn],
    grid: tuple[int, int] = (6, 8),
    image_size: tuple[int, int] = (96, 128),
    methods: tuple[str, ...] = ("tam", "cam"),
    seed: int = 0,
    model_id: str = "synthetic/chat",
) -> Explanation:
    """A multi-turn Qwen-style record: per turn the template, the user's words, the answer's tokens.

    Pictures of turn ``t`` get grids whose ``turn`` is ``t``. Every value depends only on its token's
    position, so the record of a longer conversation starts with the rows of a shorter one (as a real
    chat's does). A turn with ``closed=False`` ends without its end-of-turn token (an answer being written).

    >>> exp = conversation_record([Turn("Describe.", 2, images=1), Turn("And now?", [" Yes"], images=1)])
    >>> [(t.text, t.turn) for t in exp.explained_tokens], [g.turn for g in exp.grids]
    ([(' w0', 0), (' w1', 0), (' Yes', 1)], [0, 1])
    """
    if not turns:
        raise ValueError("a conversation has at least one turn")
    if turns[0].images < 1:
        raise ValueError("the first turn must add a picture (the chat explains pictures)")
    texts: list[str] = []
    roles: list[str] = []
    token_turns: list[int] = []
    for t, turn in enumerate(turns):
        head = ["<|im_start|>", "user", "\n"]
        prompt = re.findall(r"\s*\S+", turn.prompt) or [turn.prompt]
        mid = ["<|im_end|>", "\n", "<|im_start|>", "assistant", "\n"]
        answer = _answer_words(turn.answer)
        part = head + prompt + mid
        texts += part + answer
        roles += ["special"] * 3 + ["prompt"] * len(prompt) + ["special"] * len(mid) + ["answer"] * len(answer)
        if turn.closed:
            texts.append("<|im_end|>")
            roles.append("special")
        token_turns += [t] * (len(texts) - len(token_turns))
    tokens = [Token(x, 100 + (sum(map(ord, x)) % 5000), r, tt, k)
              for k, (x, r, tt) in enumerate(zip(texts, roles, token_turns))]
    h, w = grid
    height, width = image_size
    images: list[np.ndarray] = []
    grids: list[VisualGrid] = []
    for t, turn in enumerate(turns):
        for _ in range(turn.images):
            k = len(images)
            images.append(picture(height, width, seed + k))
            g = VisualGrid("image", f"image {k + 1}", k * h * w, (h, w), [k], np.array([[0, 0, width, height]],
                                                                                     np.float32))
            g.turn = t  # the turn that added the picture (VisualGrid.turn in records that know it)
            grids.append(g)
    n_vis = len(grids) * h * w
    explained = np.array([i for i, r in enumerate(roles) if r == "answer"], np.int64)
    n = explained.size
    base = np.zeros((n, n_vis), np.float32)
    rel = np.zeros((n, len(tokens)), np.float16)
    for r, i in enumerate(explained.tolist()):
        rng = np.random.default_rng([seed, i])
        seen = sum(h * w for g in grids if g.turn <= token_turns[i])
        base[r, :seen] = rng.uniform(0.05, 0.25, seen)
        base[r, (i * 7919 + seed) % max(seen, 1)] = 1.0 if r % 4 == 0 else rng.uniform(0.3, 1.0)
        rel[r, :i] = rng.uniform(0, 1, i).astype(np.float16)
    maps = {}
    for m in methods:
        scale = {"cam": (5.0, -1.0), "eci_only": (0.9, 0.0), "filter_only": (0.8, 0.1)}.get(m, (1.0, 0.0))
        maps[m] = np.where(base > 0, base * scale[0] + scale[1], 0).astype(np.float16)
    k = 3
    cand_ids = np.stack([np.arange(k) + 500 + r for r in range(n)]) if n else np.zeros((0, k), np.int64)
    cand_probs = np.tile(np.array([[0.7, 0.2, 0.05]], np.float32), (n, 1))
    cand_texts = [[tokens[int(i)].text, " dog", " <b>"] for i in explained]
    return Explanation(
        tokens=tokens, explained=explained, maps=maps, text_relevance=rel, grids=grids, images=images,
        candidate_ids=cand_ids, candidate_probs=cand_probs, candidate_texts=cand_texts,
        words=np.array([[k, k + 1] for k in range(len(tokens))]), metadata={"model_id": model_id},
    )


class FakeChat:
    """A chat without a model: each :meth:`ask` answers ``answer_tokens`` words, ``token_delay`` seconds apart.

    Args:
        answer_tokens: words per answer.
        token_delay: seconds between streamed tokens (so a test can stop or watch a turn being written).
        images: pictures of the first turn (as ``explainer.chat(image=...)`` gives them).
        grid, image_size, methods, seed: as :func:`conversation_record`.

    ``fail(error, after=k)`` makes the next ask raise ``error`` after ``k`` tokens (as an out-of-memory
    inside generation would). Thread-safe like the real chat: ``stop()`` from any thread ends the running
    ask at its next token; a second ask while one runs raises ``RuntimeError``.
    """

    def __init__(
        self,
        answer_tokens: int = 6,
        token_delay: float = 0.0,
        images: int = 1,
        grid: tuple[int, int] = (6, 8),
        image_size: tuple[int, int] = (96, 128),
        methods: tuple[str, ...] = ("tam", "cam"),
        seed: int = 0,
    ) -> None:
        self.answer_tokens = int(answer_tokens)
        self.token_delay = float(token_delay)
        self.options = {"grid": grid, "image_size": image_size, "methods": methods, "seed": seed}
        self.turns: list[Turn] = []
        self.explanation: Explanation | None = None
        self._pending_images = int(images)
        self._subscribers: list[Callable[[ChatEvent], None]] = []
        self._lock = threading.Lock()
        self._busy = False
        self._stop = threading.Event()
        self._failure: tuple[BaseException, int] | None = None

    @property
    def busy(self) -> bool:
        """True while an ask runs."""
        return self._busy

    def stop(self) -> None:
        """End the running ask at its next token (it keeps what was written as a complete turn)."""
        self._stop.set()

    def fail(self, error: BaseException, after: int = 0) -> None:
        """Make the next ask raise ``error`` after ``after`` streamed tokens."""
        self._failure = (error, int(after))

    def subscribe(self, fn: Callable[[ChatEvent], None]) -> Callable[[], None]:
        """Call ``fn(event)`` for every ask; returns the function that unsubscribes."""
        self._subscribers.append(fn)

        def off() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return off

    def _emit(self, event: ChatEvent) -> None:
        for fn in list(self._subscribers):
            fn(event)

    def _record(self, turns: list[Turn]) -> Explanation:
        return conversation_record(turns, **self.options)

    def ask(self, prompt: str, images: Sequence[Any] | None = None, *, stream: bool = False,
            **generation: Any) -> Explanation:
        """Answer ``prompt`` (``images``: pictures added in this turn, only counted); the updated record."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("the prompt is empty: ask a question, e.g. 'Describe this image.'")
        with self._lock:
            if self._busy:
                raise RuntimeError("the chat is answering another question: wait for it or call chat.stop()")
            self._busy = True
        self._stop.clear()
        turn = len(self.turns)
        before = self.explanation
        failure, self._failure = self._failure, None
        try:
            self._emit(ChatEvent("start", turn, before))
            new = Turn(prompt, [], self._pending_images + len(images or []), closed=False)
            words: list[str] = []
            stopped = False
            for k in range(self.answer_tokens):
                if failure is not None and k == failure[1]:
                    raise failure[0]
                if self._stop.is_set():
                    stopped = True
                    break
                if self.token_delay:
                    time.sleep(self.token_delay)
                words.append(f" w{k}")
                if stream:
                    partial = Turn(new.prompt, list(words), new.images, closed=False)
                    self._emit(ChatEvent("token", turn, self._record([*self.turns, partial])))
            if failure is not None and failure[1] >= len(words) and not stopped:
                raise failure[0]
            done = Turn(new.prompt, words, new.images)
            exp = self._record([*self.turns, done])
            self.turns.append(done)
            self.explanation = exp
            self._pending_images = 0
            self._emit(ChatEvent("end", turn, exp, stopped=stopped))
            return exp
        except BaseException as e:
            self.explanation = before
            self._emit(ChatEvent("error", turn, None, error=e))
            raise
        finally:
            self._busy = False
