"""Token Activation Maps one generated token at a time, as a model writes.

TAM's map for a generated token needs only what came before it: its class's activation over the
visual tokens, the same class's relevance at the earlier text tokens, and the earlier tokens'
own activation maps (the interference ECI removes). :class:`IncrementalTAM` keeps those as they
arrive, so each new token costs one small matrix-vector product, ECI over the context so far,
the joint normalisation and the filter: the same steps, by the same functions, as the batched
:func:`~tam_widgets.core.tam_from_hidden` in its default mode, one row at a time.

>>> import torch
>>> from tam_widgets.core import synthetic_example
>>> ex = synthetic_example()
>>> hidden = torch.as_tensor(ex.hidden)
>>> ctx = ex.prompt_positions
>>> inc = IncrementalTAM(hidden[ex.visual_positions], torch.as_tensor(ex.lm_head_weight), ex.grid,
...                      ex.input_ids[ctx], hidden[ctx - 1])
>>> inc.add(int(ex.input_ids[ex.answer_start]), hidden[ex.answer_start - 1])
0
>>> inc.rows().tam.shape == (1, ex.visual_positions.size) and len(inc) == ctx.size + 1
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .eci import eci
from .layout import normalize_grids
from .normalize import multimodal_normalize
from .scores import as_tensor


@dataclass(frozen=True)
class TAMRows:
    """Explained tokens' maps over the visual tokens (float32 ``[k, n_v]``) and text relevance.

    Attributes:
        tam: TAM (ECI, joint normalisation, rank Gaussian filter), in ``[0, 1]``.
        unfiltered: TAM without the filter (the ECI-only ablation).
        no_eci: the filtered map without ECI (the filter-only ablation).
        raw: the class activation map ``ReLU(s_c(v))`` (CAM before normalisation).
        text_relevance: ``[k, n_context]`` relevance over the context tokens before each token, on
            the scale of ``tam`` (before the filter), in context order (0 for later context).
        scales: ``[k]`` ECI's least-squares scales.
    """

    tam: np.ndarray
    unfiltered: np.ndarray
    no_eci: np.ndarray
    raw: np.ndarray
    text_relevance: np.ndarray
    scales: np.ndarray


class IncrementalTAM:
    """TAM of generated tokens one by one, from last-layer hidden states and the LM head.

    Args:
        visual_hidden: ``[n_v, d]`` hidden states at the visual positions, in grid order.
        weight: the LM head ``[V, d]`` (``bias`` its optional ``[V]``).
        grid: ``(h, w)``, ``(t, h, w)`` or a list of them, as in :func:`tam_from_hidden`.
        context_ids: ids of the text tokens before the first explained one (the prompt's text and
            earlier answers: what may leak into the maps), in order.
        context_hidden: ``[n_context, d]`` the hidden state that predicted each of them
            (position ``p - 1`` for the token at ``p``).

    :meth:`add` takes the next generated token and then counts it as context for the later
    ones; :meth:`rows` gives the maps of the tokens added. Scores are float32 (float64 for
    float64 inputs), as in the batched computation.
    """

    def __init__(
        self,
        visual_hidden: torch.Tensor,
        weight: torch.Tensor,
        grid,
        context_ids,
        context_hidden: torch.Tensor,
        bias: torch.Tensor | None = None,
    ):
        visual_hidden = as_tensor(visual_hidden, "visual_hidden")
        context_hidden = as_tensor(context_hidden, "context_hidden")
        self.weight = as_tensor(weight, "lm_head_weight")
        self.bias = None if bias is None else as_tensor(bias, "lm_head_bias")
        self.grids = normalize_grids(grid)
        n_v = int(sum(int(np.prod(g)) for g in self.grids))
        if visual_hidden.dim() != 2 or visual_hidden.shape[0] != n_v:
            raise ValueError(
                f"visual_hidden must be [n_v, d] with n_v = {n_v} (the grids' tokens), got {tuple(visual_hidden.shape)}"
            )
        d = self.weight.shape[1] if self.weight.dim() == 2 else -1
        for name, h in (("visual_hidden", visual_hidden), ("context_hidden", context_hidden)):
            if h.dim() != 2 or h.shape[1] != d:
                raise ValueError(f"{name} must be [n, d] with d = {d} (the LM head's width), got {tuple(h.shape)}")
        ids = np.asarray(context_ids, dtype=np.int64).reshape(-1)
        if len(ids) != context_hidden.shape[0]:
            raise ValueError(f"{len(ids)} context ids but {context_hidden.shape[0]} context hidden states")
        self.vocab_size = self.weight.shape[0]
        self._check_ids(ids)
        self.dtype = torch.float64 if visual_hidden.dtype == torch.float64 else torch.float32
        self.device = visual_hidden.device
        self.n_visual = n_v
        # One matrix holds the visual states, then each context token's predicting state, so a new
        # token's scores at all of them are one matrix-vector product. Rows grow by doubling.
        cap = max(16, 2 * (len(ids) + 16))
        self._states = torch.zeros(n_v + cap, d, dtype=self.dtype, device=self.device)
        self._states[:n_v] = visual_hidden.to(self.dtype)
        self._raw = torch.zeros(cap, n_v, dtype=self.dtype, device=self.device)  # context tokens' raw maps
        self._ids = torch.zeros(cap, dtype=torch.int64, device=self.device)
        self.n = 0
        self._class = torch.zeros(1, dtype=torch.int64, device=self.device)  # add()'s token, reused
        # per added token: raw map, ECI map, relevance over the context before it, scale (each [1, ...])
        self._rows: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        if len(ids):
            classes, inverse = np.unique(ids, return_inverse=True)
            vis = self._scores(torch.from_numpy(classes).to(self.device), self._states[:n_v])  # [n_classes, n_v]
            self._check_finite(vis, "the visual tokens")
            self._append(torch.from_numpy(ids), vis.clamp_min(0)[torch.from_numpy(inverse)], context_hidden)

    def __len__(self) -> int:
        """Context tokens so far (the initial context plus every token added)."""
        return self.n

    def _check_ids(self, ids: np.ndarray) -> None:
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"token ids outside the vocabulary [0, {self.vocab_size})")

    @staticmethod
    def _check_finite(scores: torch.Tensor, what: str) -> None:
        # x * 0 is 0 for every finite x and NaN for inf or NaN: one product and one sum (no overflow) per token
        if scores.numel() and math.isnan(float((scores * 0).sum())):
            raise ValueError(f"scores contain NaN or inf at {what}; check the model output")

    def _scores(self, classes: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
        rows = self.weight.index_select(0, classes.to(self.weight.device)).to(self.device, self.dtype)
        out = rows @ states.T
        if self.bias is not None:
            out += self.bias.index_select(0, classes.to(self.bias.device)).to(self.device, self.dtype)[:, None]
        return out

    def _append(self, ids: torch.Tensor, raw: torch.Tensor, hidden: torch.Tensor) -> None:
        k, n_v = len(ids), self.n_visual
        self._reserve(k)
        self._states[n_v + self.n : n_v + self.n + k] = hidden.to(self.device, self.dtype)
        self._raw[self.n : self.n + k] = raw
        self._ids[self.n : self.n + k] = ids.to(self.device)
        self.n += k

    def _reserve(self, k: int) -> None:
        """Room for ``k`` more context tokens."""
        n_v = self.n_visual
        while self.n + k > self._raw.shape[0]:
            cap = 2 * self._raw.shape[0]
            states = torch.zeros(n_v + cap, self._states.shape[1], dtype=self.dtype, device=self.device)
            states[: n_v + self.n] = self._states[: n_v + self.n]
            raw_all = torch.zeros(cap, n_v, dtype=self.dtype, device=self.device)
            raw_all[: self.n] = self._raw[: self.n]
            ids_all = torch.zeros(cap, dtype=torch.int64, device=self.device)
            ids_all[: self.n] = self._ids[: self.n]
            self._states, self._raw, self._ids = states, raw_all, ids_all

    def add(self, token_id: int, hidden: torch.Tensor) -> int:
        """Take the next generated token (``token_id``, predicted by the hidden state ``hidden [d]``).

        Its scores, raw map and ECI are computed now, from the context before it; it then joins
        the context of the tokens after it. Returns its row number for :meth:`rows`.
        """
        c = int(token_id)
        if not 0 <= c < self.vocab_size:
            raise ValueError(f"token id {c} is outside the vocabulary [0, {self.vocab_size})")
        hidden = as_tensor(hidden, "hidden")
        if hidden.dim() != 1:
            hidden = hidden.reshape(-1)
        if hidden.shape[0] != self._states.shape[1]:
            raise ValueError(f"hidden must be one state of width {self._states.shape[1]}, got {hidden.shape[0]} values")
        n, n_v = self.n, self.n_visual
        # A broken state shows in the scores of the next token, which read it as context.
        scores = self._scores(self._class.fill_(c), self._states[: n_v + n])  # [1, visual tokens, then context]
        self._check_finite(scores, "the visual or context tokens")
        positive = scores.clamp_min(0)
        raw, relevance = positive[:, :n_v], positive[:, n_v:]
        maps, scale = eci(raw, self._raw[:n], relevance, (self._ids[:n] != c)[None], "ls")
        self._rows.append((raw, maps, relevance, scale))  # each [1, ...]
        self._reserve(1)
        self._states[n_v + n] = hidden
        self._raw[n] = raw[0]
        self._ids[n] = c
        self.n += 1
        return len(self._rows) - 1

    def extend(self, token_ids, hidden: torch.Tensor) -> list[int]:
        """:meth:`add` for consecutive tokens in order (``hidden [k, d]``: the state that predicted each).

        >>> import torch
        >>> from tam_widgets.core import synthetic_example
        >>> ex = synthetic_example()
        >>> h, ctx, a = torch.as_tensor(ex.hidden), ex.prompt_positions, ex.answer_start
        >>> inc = IncrementalTAM(h[ex.visual_positions], torch.as_tensor(ex.lm_head_weight), ex.grid,
        ...                      ex.input_ids[ctx], h[ctx - 1])
        >>> inc.extend(ex.input_ids[a : a + 3], h[a - 1 : a + 2])
        [0, 1, 2]
        """
        ids = np.asarray(token_ids).reshape(-1).tolist()
        hidden = as_tensor(hidden, "hidden")
        if hidden.dim() != 2 or hidden.shape[0] != len(ids):
            raise ValueError(
                f"hidden must be [k, d] with k = {len(ids)} (one state per token), got {tuple(hidden.shape)}"
            )
        return [self.add(t, h) for t, h in zip(ids, hidden.unbind(0))]

    def rows(self, start: int = 0, stop: int | None = None) -> TAMRows:
        """The maps of the added tokens ``start:stop`` (all by default).

        Normalisation and filter work on each row alone, so a row is the same whether it is
        asked for alone, as each token arrives, or with the others at the end.
        """
        from .tam import filter_grids  # tam imports the public entry points; keep this module light

        picked = self._rows[start:stop]
        k = len(picked)
        widths = [r[2].shape[1] for r in picked]
        n_ctx = max(widths, default=0)
        if k:
            raw, maps = torch.cat([r[0] for r in picked]), torch.cat([r[1] for r in picked])
            scales = torch.cat([r[3] for r in picked]).cpu()
        else:
            raw = torch.zeros(0, self.n_visual, dtype=self.dtype, device=self.device)
            maps, scales = torch.zeros_like(raw), torch.zeros(0, dtype=self.dtype)
        # Each row's context: the tokens before it (later context 0 and masked out).
        lengths = torch.tensor(widths, dtype=torch.int64, device=self.device)
        mask = torch.arange(n_ctx, device=self.device)[None] < lengths[:, None]
        relevance = torch.zeros(k, n_ctx, dtype=self.dtype, device=self.device)
        if k:
            relevance[mask] = torch.cat([r[2] for r in picked], 1)[0]
        unfiltered, text = multimodal_normalize(maps, relevance, mask)
        no_eci, _ = multimodal_normalize(raw, relevance, mask)
        filtered = filter_grids(torch.cat([unfiltered, no_eci]), self.grids, "rank_gaussian")

        def out(x: torch.Tensor) -> np.ndarray:
            return x.float().cpu().numpy()

        return TAMRows(out(filtered[:k]), out(unfiltered), out(filtered[k:]), out(raw), out(text), out(scales))
