"""``ChatTimeline``: a multi-turn conversation as a chat, every token's map one click away, live from a chat.

    tl = tw.ChatTimeline(exp)                  # any multi-turn record, e.g. Explanation.load("chat.tam")
    tl = tw.ChatTimeline(explainer.chat(image="dogs.jpg"))   # live: a question box under the last turn
    tl.to_html("chat.html")                    # the whole conversation as one offline page

Turns run top to bottom: the user's message with thumbnails of the pictures added in that turn, then the
answer as a token strip with a sparkline of its tokens' peak activation. A token's map covers the
pictures it could see (a grid's ``turn`` <= the token's turn); later pictures show as "not yet in the
conversation". Built from a chat, the widget subscribes to it: every ask, from the page's box or from
Python (``chat.ask("...", stream=True)``), updates the displayed timeline as tokens are written.

What travels to the page: the record's payload (:mod:`tam_widgets.widgets.payload`) as ``_records[0]``
(with ``seq``, the number of the push it is current at), the synced attributes of
:data:`~tam_widgets.widgets.state.TIMELINE_VIEW`, and the messages ``{type: "ask", text}`` / ``{type: "stop"}``
from the page. While a turn is written only its first token brings a whole record; later pushes are
``append`` messages carrying the new tokens and rows alone (:func:`~tam_widgets.widgets.payload.append_payload`),
numbered one after the other; a page that misses one sends ``{type: "resync"}`` and gets the whole record
again (``js/README.md``).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from ..record import Explanation, Token
from . import state
from .base import RecordsWidget, bundle, record_entry, record_id
from .html import PAGE_FORMAT, PAGE_VERSION, record_document, write_page
from .payload import MAX_INLINE_BYTES, Payload, append_payload, build_payload, check_showable
from .snapshot import _cut, snapshot_png
from .state import starting_point, timeline_state

#: The front end's name of the view.
VIEW = "chat_timeline"
#: While a turn is written, what it adds reaches the page at most this often (seconds); the first
#: token of a turn and its end are sent at once.
PUSH_INTERVAL = 0.1
#: ... and no faster than this many bytes per second reach the page (a long conversation's record is megabytes).
PUSH_BYTES_PER_SECOND = 20e6
#: Longest question the page may send (characters).
MAX_QUESTION = 20_000
#: Longest user / answer text per turn in the ``text/plain`` summary.
TURN_TEXT = 120


def visible_grids(exp: Explanation, token: int) -> list[int]:
    """Indices of the grids token ``token`` could see: those added in its turn or before.

    >>> from tam_widgets.testing.fake_chat import Turn, conversation_record
    >>> exp = conversation_record([Turn("Hi", 1, images=1), Turn("And?", 1, images=1)])
    >>> visible_grids(exp, int(exp.explained[0])), visible_grids(exp, int(exp.explained[1]))
    ([0], [0, 1])
    """
    turn = exp.tokens[token].turn
    return [k for k, g in enumerate(exp.grids) if g.turn <= turn]


def n_turns(exp: Explanation) -> int:
    """How many turns the record holds."""
    return max((t.turn for t in exp.tokens), default=-1) + 1


def timeline_payload(exp: Explanation, **options: Any) -> Payload:
    """What the page gets for ``exp``: :func:`~tam_widgets.widgets.payload.build_payload` with grid turns."""
    return build_payload(exp, **options)


def is_chat(obj: Any) -> bool:
    """``obj`` talks like a chat (``ask``, ``subscribe``, ``stop``, ``explanation``)."""
    return all(callable(getattr(obj, k, None)) for k in ("ask", "subscribe", "stop")) and hasattr(obj, "explanation")


def showable(exp: Explanation | None) -> bool:
    """The record has something to show (a record whose only turn was stopped before its first token has not)."""
    return isinstance(exp, Explanation) and exp.explained.size > 0 and bool(exp.methods)


def timeline_summary(exp: Explanation, token: int, method: str, pinned: bool = True) -> str:
    """The ``text/plain`` of a timeline: the model, each turn's question and answer, the shown token.

    >>> from tam_widgets.testing.fake_chat import Turn, conversation_record
    >>> exp = conversation_record([Turn("Describe it.", 2, images=1), Turn("Why?", [" Because"])])
    >>> print(timeline_summary(exp, int(exp.explained[-1]), "tam"))
    ChatTimeline of synthetic/chat: 2 turns
    turn 1: user: Describe it. | answer: w0 w1
    turn 2: user: Why? | answer: Because
    selected: token 22 ' Because' of turn 2 (TAM map)
    """
    from ..record.display import method_label

    model = exp.metadata.get("model_id") or "unknown model"
    count = n_turns(exp)
    lines = [f"ChatTimeline of {model}: {count} turn{'s' if count != 1 else ''}"]
    for t in range(count):
        user = "".join(x.text for x in exp.tokens if x.turn == t and x.role == "prompt")
        answer = "".join(x.text for x in exp.tokens if x.turn == t and x.role == "answer")
        lines.append(f"turn {t + 1}: user: {_cut(user, TURN_TEXT)} | answer: {_cut(answer, TURN_TEXT)}")
    tok = exp.tokens[token]
    chosen = f"token {token} {tok.label!r} of turn {tok.turn + 1} ({method_label(method)} map)"
    lines.append(f"selected: {chosen}" if pinned else f"selected: none (the picture shows {chosen})")
    return "\n".join(lines)


def page(exp: Explanation, *, image_format: str = "auto", **view: Any) -> dict:
    """The page document of a timeline of ``exp`` (``view``: its starting attributes, checked; never live)."""
    check_showable(exp, "ChatTimeline")
    record = record_document(record_id(0), exp, image_format=image_format)
    return {
        "format": PAGE_FORMAT,
        "version": PAGE_VERSION,
        "view": VIEW,
        "records": [record],
        "state": timeline_state(exp, **{**view, "live": False, "busy": False, "error": ""}),
    }


def to_html(exp: Explanation, path: str | os.PathLike | None = None, *, title: str | None = None,
            image_format: str = "auto", **view: Any):
    """Write the whole conversation ``exp`` as one offline timeline page (or return its HTML when ``path`` is None).

        tw.widgets.timeline.to_html(exp, "chat.html", colormap="viridis")
    """
    for name in ("widget.css", "standalone.js"):
        bundle(name)
    doc = page(exp, image_format=image_format, **view)
    heading = title if title is not None else f"{doc['records'][0]['meta']['title']}: {n_turns(exp)}-turn chat"
    return write_page(doc, path, title=heading)


class ChatTimeline(RecordsWidget):
    """A multi-turn conversation as a chat timeline (see the module docstring).

    Args:
        source: an :class:`Explanation` (static; any multi-turn record, also one loaded from a ``.tam``
            file) or a chat (``explainer.chat(...)``; live: the page gets a question box and the
            widget follows every ask).
        selected, method, colormap, opacity: where the view starts (as :class:`TokenMapView`).
        image_format, max_inline_bytes, snapshot: as :class:`TokenMapView`.

    Synced attributes (:data:`~tam_widgets.widgets.state.TIMELINE_VIEW`): ``selected``, ``method``,
    ``colormap``, ``opacity``, ``show_specials``, and for a live chat ``live``, ``busy`` (a turn is being
    written) and ``error`` (why the last turn failed; the conversation stays as it was before it).

    >>> from tam_widgets.testing.fake_chat import FakeChat
    >>> chat = FakeChat(answer_tokens=3)
    >>> tl = ChatTimeline(chat, snapshot=False)
    >>> _ = chat.ask("Describe the image.", stream=True)
    >>> tl.explanation.answer.split(), tl.busy
    (['w0', 'w1', 'w2'], False)
    """

    VIEW = VIEW

    selected = state.trait("selected")
    method = state.trait("method")
    colormap = state.trait("colormap")
    opacity = state.trait("opacity")
    show_specials = state.trait("show_specials")
    live = state.trait("live")
    busy = state.trait("busy")
    error = state.trait("error")

    def _shown(self) -> Explanation | None:
        return getattr(self, "explanation", None)

    _check_selected = state.validator("selected", _shown)
    _check_method = state.validator("method", _shown)
    _check_colormap = state.validator("colormap", _shown)
    _check_opacity = state.validator("opacity", _shown)
    _check_show_specials = state.validator("show_specials", _shown)
    _check_live = state.validator("live", _shown)
    _check_busy = state.validator("busy", _shown)
    _check_error = state.validator("error", _shown)

    def __init__(
        self,
        source: Any,
        *,
        selected: int | Token | None = None,
        method: str | None = None,
        colormap: str = state.ATTRS["colormap"].default,
        opacity: float = state.ATTRS["opacity"].default,
        image_format: str = "auto",
        max_inline_bytes: int = MAX_INLINE_BYTES,
        snapshot: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(source, Explanation):
            chat, exp = None, source
            check_showable(exp, "ChatTimeline")
        elif is_chat(source):
            chat, exp = source, source.explanation
            exp = exp if showable(exp) else None
        else:
            raise TypeError(
                "ChatTimeline shows an Explanation (e.g. Explanation.load('chat.tam')) or a chat "
                f"(explainer.chat(image=...)), got {type(source).__name__}"
            )
        start = timeline_state(exp, selected=selected, method=method, colormap=colormap, opacity=opacity,
                               live=chat is not None)
        self._options = {"image_format": image_format, "max_inline_bytes": max_inline_bytes}
        super().__init__([exp] if exp is not None else [], snapshot=snapshot, **self._options, **start, **kwargs)
        self.explanation: Explanation | None = exp
        self.chat = chat
        self._push_lock = threading.RLock()  # held while a record is prepared and sent
        self._queue_lock = threading.Lock()  # held only for a moment: the chat's thread never waits on a push
        self._seq = 0  # records in the order the chat made them; an older one is never sent after a newer
        self._shown_seq = 0
        self._latest: tuple[int, Explanation] | None = None
        self._last_push = 0.0
        self._timer: threading.Timer | None = None
        self._before: Explanation | None = exp
        self._fresh_turn = False
        self._worker: threading.Thread | None = None
        self._cache: dict = {}  # rows and pictures already prepared for the page (a growing record)
        self._push_cost = 0.0
        self._push_bytes = 0
        self._wire = 0  # number of the last push (whole record or append); the page's record says its own
        self._page: Explanation | None = exp  # the record the page holds after the pushes so far
        self._records = [self._entry(0, p) for p in self.payloads.values()]
        self._unsubscribe = chat.subscribe(self._on_event) if chat is not None else None

    # -- what the page shows ---------------------------------------------------------------------
    def _next(self) -> int:
        with self._queue_lock:
            self._seq += 1
            return self._seq

    @staticmethod
    def _entry(wire: int, payload: Payload) -> dict:
        """An entry of ``_records``: the record's payload and ``seq``, the number of the push it is current at."""
        return {**record_entry(record_id(0), payload), "seq": wire}

    def _show(self, exp: Explanation | None, seq: int | None = None, *, grow: bool = False, final: bool = False,
              ) -> None:
        """Send ``exp`` (the conversation so far; ``None``: nothing yet) to the page, unless a newer record
        (``seq``: its place in the chat's order) went already.

        ``grow``: when ``exp`` is the page's record grown within its last turn, send only what it adds (an
        ``append`` message numbered after the last push, see :func:`~tam_widgets.widgets.payload.append_payload`);
        else, or when ``final`` after it, ``_records`` gets the whole record, numbered as the page's copy
        is then (the page rebuilds only when its number differs).
        """
        seq = self._next() if seq is None else seq
        with self._push_lock:
            if seq < self._shown_seq:
                return
            self._shown_seq = seq
            exp = exp if showable(exp) else None
            if exp is not None and self.selected >= 0 and (
                self.selected >= len(exp.tokens) or self.selected not in set(exp.explained.tolist())
            ):
                self.selected = -1  # the pinned token went with a failed turn: the page picks one again
            if exp is None:
                self.selected = -1
            started = time.monotonic()
            delta = append_payload(self._page, exp) if grow and exp is not None and self._page is not None else None
            self.explanation = exp
            self.explanations = {record_id(0): exp} if exp is not None else {}
            if delta is not None:
                self._wire += 1
                self.send({"type": "append", "record": record_id(0), "seq": self._wire, **delta.meta}, delta.buffers())
                self._page = exp
                self._push_bytes = delta.raw_nbytes()
            if delta is None or final:
                self._wire += delta is None
                self.payloads = {rid: timeline_payload(e, cache=self._cache, **self._options)
                                 for rid, e in self.explanations.items()}
                self._records = [self._entry(self._wire, p) for p in self.payloads.values()]
                self._page = exp
                self._push_bytes = sum(p.raw_nbytes() for p in self.payloads.values())
            if exp is not None and self.method not in exp.methods:
                self.method = starting_point(exp, None, None)[1]
            self._last_push = time.monotonic()
            self._push_cost = self._last_push - started

    def _resync(self) -> None:
        """The page missed a push (a gap in the numbers, or a view opened while a turn was written): the whole
        record again, under a new number."""
        with self._push_lock:
            self._page = None
            self._show(self.explanation, self._shown_seq)

    def _flush(self) -> None:
        """Send the newest record the tokens left waiting (on the timer's thread, not the chat's)."""
        with self._queue_lock:
            if self._timer is not None and threading.current_thread() is self._timer:
                self._timer = None
            latest, self._latest = self._latest, None
        if latest is not None:
            try:
                self._show(latest[1].explanation, latest[0], grow=True)
            except Exception as e:  # the next push or the end of the turn tries again
                import warnings

                warnings.warn(f"ChatTimeline could not send the record ({type(e).__name__}: {e})", stacklevel=2)

    def _queue(self, event: Any) -> None:
        """A token's event: its record goes at once when it is the turn's first, else from a timer thread at most
        every ``PUSH_INTERVAL`` (longer for a costly record: at most a third of the time spent preparing pushes,
        at most ``PUSH_BYTES_PER_SECOND``), only the newest one's, read then; the chat's thread never waits for
        a push in progress, nor makes the records of the tokens in between."""
        with self._queue_lock:
            self._seq += 1
            self._latest = (self._seq, event)
            first, self._fresh_turn = self._fresh_turn, False
            if not first and self._timer is None:
                every = max(PUSH_INTERVAL, 3 * self._push_cost, self._push_bytes / PUSH_BYTES_PER_SECOND)
                self._timer = threading.Timer(max(0.0, every - (time.monotonic() - self._last_push)), self._flush)
                self._timer.daemon = True
                self._timer.start()
        if first:  # the turn's first token: its map goes now, from the chat's thread
            self._flush()

    def _cancel(self) -> None:
        """Forget the records waiting to be sent (a newer one, or the end of the turn, comes instead)."""
        with self._queue_lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._latest = None

    def _on_event(self, event: Any) -> None:
        """A chat event (from the thread running the ask): keep the page in step; never raises into the chat."""
        try:
            kind = getattr(event, "kind", None)
            if kind == "start":
                self._cancel()
                self._before = event.explanation if showable(event.explanation) else self.explanation
                self._fresh_turn = True
                self.error = ""
                self.busy = True
            elif kind == "token":
                self._queue(event)
            elif kind == "end":
                self._cancel()
                self._show(event.explanation, grow=True, final=True)
                self.busy = False
            elif kind == "error":
                self._cancel()
                self._show(self._before)
                err = event.error
                self.error = f"{type(err).__name__}: {err}" if err is not None else "the turn failed"
                self.busy = False
        except Exception as e:  # a display problem must not break the user's chat
            import warnings

            warnings.warn(f"ChatTimeline could not show a chat event ({type(e).__name__}: {e})", stacklevel=2)

    # -- messages from the page ------------------------------------------------------------------
    def _on_message(self, widget: Any, content: Any, buffers: list) -> None:
        """``{type: "ask", text}`` and ``{type: "stop"}`` go to the chat, ``{type: "resync"}`` gets the whole
        record again; everything else goes to the row protocol."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "resync":
            self._resync()
        elif kind == "ask":
            problem = self.ask_from_page(content.get("text"))
            if problem:
                self.send({"type": "ask", "error": problem})
        elif kind == "stop":
            if self.chat is None:
                self.send({"type": "stop", "error": "this timeline shows a saved record: there is nothing to stop"})
            else:
                self.chat.stop()
        else:
            super()._on_message(widget, content, buffers)

    def ask_from_page(self, text: Any) -> str | None:
        """Ask ``text`` in a background thread (the kernel keeps serving the page); a reason when it cannot."""
        if self.chat is None:
            return "this timeline shows a saved record; build it from a chat (ChatTimeline(explainer.chat(...))) to ask"
        if not isinstance(text, str) or not text.strip():
            return 'send {type: "ask", text: <a non-empty question>}'
        if len(text) > MAX_QUESTION:
            return f"the question has {len(text)} characters; ask one of at most {MAX_QUESTION}"
        if self.chat.busy or (self._worker is not None and self._worker.is_alive()):
            return "the model is still answering: wait for it or press Stop"
        self._worker = threading.Thread(target=self._run_ask, args=(text,), name="ChatTimeline.ask", daemon=True)
        self._worker.start()
        return None

    def _run_ask(self, text: str) -> None:
        try:
            self.chat.ask(text, stream=True)
        except BaseException as e:  # shown in the page; the chat is as it was before the turn
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.busy = False

    def close(self) -> None:
        """Stop following the chat and close the widget."""
        off, self._unsubscribe = getattr(self, "_unsubscribe", None), None
        if off is not None:
            off()
        if hasattr(self, "_queue_lock"):
            self._cancel()
        super().close()

    # -- output and export ------------------------------------------------------------------------
    def _shown_token(self) -> int:
        exp = self.explanation
        return self.selected if self.selected >= 0 else starting_point(exp, None, self.method)[0]

    def _picture(self) -> bytes | None:
        """The shown token's map over the pictures it could see (PNG); none before the first turn."""
        if self.explanation is None:
            return None
        exp, tok = self.explanation, self._shown_token()
        return snapshot_png(exp, tok, self.method, self.colormap, only=visible_grids(exp, tok))

    def _summary(self) -> str:
        """Model, each turn's question and answer, the shown token."""
        if self.explanation is None:
            return "ChatTimeline: no turn yet (ask a question in the box, or chat.ask(...) in a cell)"
        return timeline_summary(self.explanation, self._shown_token(), self.method, pinned=self.selected >= 0)

    def to_html(self, path: str | os.PathLike | None = None, *, title: str | None = None,
                image_format: str = "auto", **view: Any):
        """The whole conversation as one offline page, starting where the widget is (``view`` overrides)."""
        if self.explanation is None:
            raise ValueError("the conversation has no turn yet: ask a question first, then write the page")
        now = {"selected": self.selected if self.selected >= 0 else None, "method": self.method,
               "colormap": self.colormap, "opacity": self.opacity, "show_specials": self.show_specials}
        return to_html(self.explanation, path, title=title, image_format=image_format, **{**now, **view})
