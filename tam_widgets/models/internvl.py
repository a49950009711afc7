"""InternVL (transformers-native ``*-hf`` checkpoints): dynamic tiles plus a thumbnail.

With ``crop_to_patches`` the image processor picks a ``columns x rows`` canvas whose aspect ratio
is closest to the picture's, resizes the whole picture onto it (no crop) and cuts it into tiles,
row by row, then appends a thumbnail of the whole picture (when there is more than one tile).
Each tile gives an ``s x s`` token grid (``s**2 = image_seq_length``). We stitch the tiles into
one ``(rows * s, columns * s)`` grid over the whole picture and keep the thumbnail's map as a
second grid of the same picture.
"""

from __future__ import annotations

import math

import numpy as np

from . import register_adapter
from .base import Adapter, VisualSpan, positions_of, whole_picture_box


def tile_layout(height: int, width: int, image_processor) -> tuple[int, int]:
    """``(columns, rows)`` of the tile canvas the processor chooses for a picture."""
    if not getattr(image_processor, "crop_to_patches", False):
        return 1, 1
    from transformers.models.got_ocr2.image_processing_got_ocr2 import get_optimal_tiled_canvas

    size = image_processor.size
    tile = (int(size["height"]), int(size["width"]))
    return get_optimal_tiled_canvas((height, width), tile, image_processor.min_patches, image_processor.max_patches)


def stitch_order(positions: np.ndarray, columns: int, rows: int, side: int) -> np.ndarray:
    """Tile-by-tile positions reordered row-major over the stitched ``(rows*side, columns*side)`` grid."""
    return positions.reshape(rows, columns, side, side).transpose(0, 2, 1, 3).reshape(-1)


@register_adapter("internvl")
class InternVLAdapter(Adapter):
    family = "InternVL"
    concat_keys = ("pixel_values",)

    def visual_spans(self, input_ids, inputs, images, videos) -> list[VisualSpan]:
        if videos:
            raise ValueError("video input is supported for the Qwen families only")
        pos = positions_of(input_ids, self.processor.image_token_id)
        per_tile = int(self.processor.image_seq_length)
        side = math.isqrt(per_tile)
        if side * side != per_tile:
            raise ValueError(f"image_seq_length {per_tile} is not a square token grid")
        spans, start = [], 0
        for i, img in enumerate(images):
            h, w = img.shape[:2]
            cols, rows = tile_layout(h, w, self.processor.image_processor)
            n_tiles = cols * rows
            tiles = pos[start : start + n_tiles * per_tile]
            if len(tiles) != n_tiles * per_tile:
                raise ValueError(f"image {i + 1}: expected {n_tiles} tiles of {per_tile} tokens, found {len(tiles)}")
            box = np.array([whole_picture_box(img)])
            spans.append(
                VisualSpan("image", i, stitch_order(tiles, cols, rows, side), (rows * side, cols * side), [0], box)
            )
            start += n_tiles * per_tile
            if n_tiles > 1:
                spans.append(VisualSpan("thumbnail", i, pos[start : start + per_tile], (side, side), [0], box))
                start += per_tile
        if start != len(pos):
            raise ValueError(f"found {len(pos)} image tokens but the tiles account for {start}")
        return spans
