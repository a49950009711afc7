"""Turn maps into pictures: resize to the image, colour, blend.

>>> import numpy as np
>>> overlay(np.zeros((56, 84, 3), np.uint8), np.eye(2, 3)).shape
(56, 84, 3)
"""

from __future__ import annotations

import cv2
import numpy as np
from matplotlib import colormaps


def colorize(map_: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """A ``[h, w]`` map in ``[0, 1]`` (or uint8 0-255) as an RGB uint8 image."""
    m = np.asarray(map_)
    m = m.astype(np.float32) / 255 if m.dtype == np.uint8 else np.nan_to_num(m.astype(np.float32))
    return (colormaps[cmap](np.clip(m, 0, 1))[..., :3] * 255).astype(np.uint8)


def overlay(
    image: np.ndarray,
    map_: np.ndarray,
    cmap: str = "jet",
    alpha: float = 0.5,
    box: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Blend a token-grid map over an RGB ``image``.

    The map is resized bilinearly to ``box = (x0, y0, x1, y1)`` of the image (the whole image by
    default) and blended there with weight ``alpha``; pixels outside the box are left as they are.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be RGB [H, W, 3], got shape {image.shape}")
    m = np.asarray(map_)
    if m.ndim != 2:
        raise ValueError(f"map must be [h, w], got shape {m.shape}")
    x0, y0, x1, y1 = box if box is not None else (0, 0, image.shape[1], image.shape[0])
    if not (0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]):
        raise ValueError(f"box {box} does not fit inside the image of shape {image.shape}")
    m = m.astype(np.float32) / 255 if m.dtype == np.uint8 else m.astype(np.float32)
    resized = cv2.resize(m, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    out = image.astype(np.float32).copy()
    region = out[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = (1 - alpha) * region + alpha * colorize(resized, cmap)
    return np.clip(out, 0, 255).astype(np.uint8)
