"""The registry of map-making methods: ``fn(inp: MethodInput) -> [n_answer, n_visual]`` float32 in ``[0, 1]``.

The map kinds a record stores are named by the one method vocabulary,
:data:`tam_widgets.record.METHOD_INFO` (labels and legend texts): each of its names is a method
registered here, and a stored map of that name is what the method computes
(``tests/record/test_display.py`` checks both).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .base import MethodInput, MethodUnavailable

Method = Callable[[MethodInput], np.ndarray]
#: ``check(model, adapter_or_None) -> (ok, reason)``: can the method run on this model?
Check = Callable[[torch.nn.Module, object], tuple[bool, str]]

METHODS: dict[str, Method] = {}
"""Every registered method by name (the built-in ones, then those added by :func:`register_method`).

>>> import tam_widgets.methods
>>> {"tam", "cam", "gradcam_pp", "rollout"} <= set(METHODS)
True
"""
_CHECKS: dict[str, Check] = {}


def _always(model: torch.nn.Module, adapter: object = None) -> tuple[bool, str]:
    return True, ""


def register_method(name: str, *, check: Check | None = None) -> Callable[[Method], Method]:
    """Decorator: register ``fn(inp) -> np.ndarray`` as method ``name``.

    ``check(model, adapter)`` (optional) tells whether the method can run on a model, returning
    ``(ok, reason)``; the reason should say why not and what to do. Registering an existing name
    replaces it.

    >>> import numpy as np, torch
    >>> from tam_widgets.methods import MethodInput
    >>> inp = MethodInput(model=torch.nn.Identity(), adapter=None, inputs={"input_ids": torch.arange(10)[None]},
    ...                   hidden=torch.zeros(9, 4), visual_positions=np.arange(1, 5), grids=[(2, 2)],
    ...                   context_positions=np.arange(5, 7), answer_start=7, answer_end=10)
    >>> @register_method("uniform")
    ... def uniform(inp):
    ...     return np.full((inp.answer_end - inp.answer_start, len(inp.visual_positions)), 0.5)
    >>> compute("uniform", inp).shape  # one row per answer token, one column per visual token
    (3, 4)
    >>> del METHODS["uniform"]
    """

    def wrap(fn: Method) -> Method:
        METHODS[name] = fn
        _CHECKS[name] = check or _always
        return fn

    return wrap


def _lookup(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}") from None


def available(name: str, model: torch.nn.Module, adapter: object = None) -> tuple[bool, str]:
    """``(True, "")`` if method ``name`` can run on ``model``, else ``(False, reason and remedy)``.

    The check is cheap (no forward pass); it may switch the attention implementation and back.

    Example (illustrative: needs a model):

    >>> import tam_widgets as tw, tam_widgets.methods as tm
    >>> model = tw.load("llava-hf/llava-1.5-7b-hf").model  # doctest: +SKIP
    >>> tm.available("rollout", model)  # doctest: +SKIP
    (True, '')

    Raises:
        ValueError: unknown method name.
    """
    _lookup(name)
    try:
        return _CHECKS[name](model, adapter)
    except MethodUnavailable as err:
        return False, str(err)
    except Exception as err:  # a check must answer, not fail
        return False, f"{type(err).__name__}: {err}"


def compute(name: str, inp: MethodInput) -> np.ndarray:
    """The maps of method ``name`` for the answer of ``inp``: float32 ``[n_answer, n_visual]`` in ``[0, 1]``.

    Raises:
        ValueError: unknown method name (the message lists the registered ones).
        MethodUnavailable: the model cannot support this method (the message says why and what to do).

    Example (illustrative: needs a model; a chat's last turn is one input):

    >>> import tam_widgets as tw, tam_widgets.methods as tm
    >>> chat = tw.load("Qwen/Qwen2-VL-2B-Instruct").chat("street.jpg")  # doctest: +SKIP
    >>> chat.ask("What is in the picture?")  # doctest: +SKIP
    >>> maps = tm.compute("gradcam_pp", chat.method_input())  # [n_answer, n_visual] in [0, 1]  # doctest: +SKIP
    """
    fn = _lookup(name)
    ok, reason = available(name, inp.model, inp.adapter)
    if not ok:
        raise MethodUnavailable(f"method {name!r} is unavailable for {type(inp.model).__name__}: {reason}")
    return validate(fn(inp), inp, name)


def validate(maps: np.ndarray, inp: MethodInput, name: str = "method") -> np.ndarray:
    """Check the method contract (shape, finite, ``[0, 1]``) and return the maps as float32.

    >>> import numpy as np, torch
    >>> from tam_widgets.methods import MethodInput
    >>> inp = MethodInput(model=torch.nn.Identity(), adapter=None, inputs={"input_ids": torch.arange(10)[None]},
    ...                   hidden=torch.zeros(9, 4), visual_positions=np.arange(1, 5), grids=[(2, 2)],
    ...                   context_positions=np.arange(5, 7), answer_start=7, answer_end=10)
    >>> validate(np.full((3, 4), 0.5), inp).dtype
    dtype('float32')
    >>> validate(np.full((3, 4), 2.0), inp)
    Traceback (most recent call last):
    RuntimeError: method returned values outside [0, 1] (2.0, 2.0)
    """
    arr = np.asarray(maps.detach().cpu() if isinstance(maps, torch.Tensor) else maps, dtype=np.float32)
    shape = (inp.answer_end - inp.answer_start, len(inp.visual_positions))
    if arr.shape != shape:
        raise RuntimeError(f"{name} returned maps of shape {arr.shape}, expected [n_answer, n_visual] = {shape}")
    if not np.isfinite(arr).all():
        raise RuntimeError(f"{name} returned NaN or inf")
    if arr.size and (arr.min() < -1e-6 or arr.max() > 1 + 1e-6):
        raise RuntimeError(f"{name} returned values outside [0, 1] ({arr.min()}, {arr.max()})")
    return np.clip(arr, 0, 1, out=arr)
