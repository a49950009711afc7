"""Helpers the methods share: row normalisation, the text model, model state, teacher-forced passes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from .base import MethodInput, MethodUnavailable


def normalize_rows(maps: torch.Tensor | np.ndarray) -> np.ndarray:
    """Min-max each row of ``[n, n_v]`` maps to ``[0, 1]`` (a constant row becomes 0), as float32.

    Raises:
        ValueError: the maps hold NaN or inf (the model output is broken).
    """
    x = torch.as_tensor(maps).detach().to("cpu", torch.float64)
    if x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError("the maps contain NaN or inf; check the model output")
    if x.shape[-1] == 0:
        return x.float().numpy()
    lo, hi = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
    span = hi - lo
    out = torch.where(span > 0, (x - lo) / torch.where(span > 0, span, 1.0), torch.zeros_like(x))
    return out.clamp_(0, 1).float().numpy()


def text_model(model: torch.nn.Module, adapter=None) -> torch.nn.Module:
    """The text decoder of a vision-language model: the module holding the decoder ``layers`` and final ``norm``.

    With an adapter, it is the module whose ``norm`` is ``adapter.final_norm()``; otherwise
    ``model.get_decoder()``.
    """
    norm = None
    if adapter is not None:
        try:
            norm = adapter.final_norm()
        except Exception:  # an adapter that cannot name it: fall back on get_decoder()
            norm = None
    try:
        decoder = model.get_decoder()
    except Exception:
        decoder = None
    if isinstance(getattr(decoder, "layers", None), torch.nn.ModuleList) and (
        norm is None or getattr(decoder, "norm", None) is norm
    ):
        return decoder
    if norm is not None:
        for module in model.modules():
            layers = getattr(module, "layers", None)
            if getattr(module, "norm", None) is norm and isinstance(layers, torch.nn.ModuleList):
                return module
    raise MethodUnavailable(
        f"cannot find the text decoder layers of {type(model).__name__}: expected model.get_decoder() (or the "
        "module owning the adapter's final_norm()) to have a `layers` ModuleList; give the adapter a final_norm() "
        "that is the `norm` of the text model"
    )


def model_device(model: torch.nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


@contextmanager
def frozen(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode and ``requires_grad=False`` on every parameter for the duration.

    Each module's ``training`` flag and each parameter's ``requires_grad`` are restored afterwards,
    also when the body raises.
    """
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        model.eval()
        for p, _ in flags:
            p.requires_grad_(False)
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)


def predicting_positions(inp: MethodInput) -> torch.Tensor:
    """Position ``p - 1`` of each explained token ``p`` (whose logits predict it)."""
    return torch.arange(inp.answer_start - 1, inp.answer_end - 1)


def forward(inp: MethodInput, keep: torch.Tensor | int = 1, **kwargs) -> tuple[object, torch.Tensor]:
    """Re-run the whole sequence with teacher forcing: ``(outputs, logits at the positions keep)``.

    Only the logits of ``keep`` (positions, or the last ``keep`` positions) are computed when the
    model takes ``logits_to_keep``; otherwise all are computed and sliced. The returned logits are
    ``[len(keep), V]`` (``[keep, V]`` for an int).
    """
    device = model_device(inp.model)
    batch = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in inp.inputs.items()}
    n = batch["input_ids"].shape[1]
    index = torch.arange(n - keep, n) if isinstance(keep, int) else keep
    to_keep = keep if isinstance(keep, int) else keep.to(device)
    try:
        out = inp.model(**batch, use_cache=False, logits_to_keep=to_keep, **kwargs)
    except TypeError as err:
        if "logits_to_keep" not in str(err):
            raise
        out = inp.model(**batch, use_cache=False, **kwargs)
    logits = out.logits[0]
    if logits.shape[0] != len(index):
        logits = logits[index.to(logits.device)]
    return out, logits
