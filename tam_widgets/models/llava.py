"""LLaVA-1.5 (``llava-hf/*``): CLIP at 336 px, one ``<image>`` token per patch.

The CLIP image processor resizes the short side to ``size["shortest_edge"]`` and centre-crops
``crop_size``: the token grid covers that centred crop of the original picture, not all of it
(the official TAM code stretches it over the whole image; we place it on the crop).
"""

from __future__ import annotations

import math

import numpy as np

from . import register_adapter
from .base import Adapter, VisualSpan, positions_of


def center_crop_box(height: int, width: int, shortest_edge: int, crop_h: int, crop_w: int) -> list[float]:
    """The original-pixel box that "resize short side, then centre-crop" keeps."""
    scale = shortest_edge / min(height, width)
    # The processor rounds the resized size; the crop is centred in it.
    new_h, new_w = (shortest_edge, int(width * scale)) if height <= width else (int(height * scale), shortest_edge)
    top, left = (new_h - crop_h) // 2, (new_w - crop_w) // 2  # as the processor's centre crop
    x0, y0 = max(left, 0) / scale, max(top, 0) / scale
    x1, y1 = min(left + crop_w, new_w) / scale, min(top + crop_h, new_h) / scale
    return [x0, y0, x1, y1]


def _field(size, name: str):
    """A field of an image processor's size: a plain dict or transformers' ``SizeDict``."""
    if size is None:
        return None
    return size.get(name) if isinstance(size, dict) else getattr(size, name, None)


@register_adapter("llava")
class LlavaAdapter(Adapter):
    family = "LLaVA"

    def visual_spans(self, input_ids, inputs, images, videos) -> list[VisualSpan]:
        ip = self.processor.image_processor
        pos = positions_of(input_ids, self.model.config.image_token_id)
        size = _field(ip.size, "shortest_edge")
        crop = ip.crop_size if getattr(ip, "do_center_crop", False) else None
        n = len(pos) // max(len(images), 1)
        side = math.isqrt(n)
        if side * side != n or n * len(images) != len(pos):
            raise ValueError(f"{len(pos)} image tokens for {len(images)} images is not a square grid per image")
        spans = []
        for i, img in enumerate(images):
            h, w = img.shape[:2]
            if size and crop:
                box = center_crop_box(h, w, int(size), int(_field(crop, "height")), int(_field(crop, "width")))
            else:
                box = [0.0, 0.0, float(w), float(h)]
            spans.append(VisualSpan("image", i, pos[i * n : (i + 1) * n], (side, side), [0], np.array([box])))
        return spans
