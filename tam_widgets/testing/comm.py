"""A widget's messages without a front end: for tests and benchmarks that look at what would reach the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class NullComm:
    """Stands for the front end's comm: sends nothing, takes no messages."""

    kernel, comm_id = object(), "null-comm"

    def send(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, *args: Any, **kwargs: Any) -> None:
        pass


def capture_sends(widget: Any, record: Callable[[dict], Any] = lambda msg: msg) -> list:
    """Give ``widget`` a :class:`NullComm` and return the list that gets ``record(msg)`` of every state message the
    widget sends from now on (ipywidgets serialises the state as it would for the page).

    >>> import ipywidgets
    >>> w = ipywidgets.IntText()
    >>> sent = capture_sends(w, lambda msg: msg["state"])
    >>> w.value = 3
    >>> sent
    [{'value': 3}]
    >>> w.close()
    """
    sent: list = []
    widget.comm = NullComm()
    widget._send = lambda msg, buffers=None: sent.append(record(msg))
    return sent
