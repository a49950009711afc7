"""Turn maps into pictures: resize to the image, colour, blend.

>>> import numpy as np
>>> overlay(np.zeros((56, 84, 3), np.uint8), np.eye(2, 3)).shape
(56, 84, 3)
"""

from __future__ import annotations

import cv2
import numpy as np
from matplotlib import colormaps


def colormap(cmap: str):
    """The matplotlib colormap called ``cmap``; ``ValueError`` naming a few valid ones otherwise."""
    if not isinstance(cmap, str) or cmap not in colormaps:
        raise ValueError(f"unknown colormap {cmap!r}; use a matplotlib name such as 'jet', 'viridis' or 'inferno'")
    return colormaps[cmap]


def colorize(map_: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """A ``[h, w]`` map in ``[0, 1]`` (or uint8 0-255) as an RGB uint8 image."""
    m = np.asarray(map_)
    m = m.astype(np.float32) / 255 if m.dtype == np.uint8 else np.nan_to_num(m.astype(np.float32))
    return (colormap(cmap)(np.clip(m, 0, 1))[..., :3] * 255).astype(np.uint8)


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float in ``[0, 1]`` (the map's opacity); ``ValueError`` for NaN, bools or values outside."""
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"alpha must be a number in [0, 1] (the map's opacity), got {type(alpha).__name__}")
    if not 0 <= float(alpha) <= 1:  # also refuses NaN
        raise ValueError(f"alpha must be in [0, 1] (0 shows only the picture, 1 only the map), got {alpha!r}")
    return float(alpha)


def overlay(
    image: np.ndarray,
    map_: np.ndarray,
    cmap: str = "jet",
    alpha: float = 0.5,
    box: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Blend a token-grid map over an RGB ``image``.

    The map is resized bilinearly to ``box = (x0, y0, x1, y1)`` (whole pixels; the whole image by
    default) and blended there with weight ``alpha`` in ``[0, 1]``; pixels outside the box are left
    as they are. NaN map values show as 0.
    """
    alpha = check_alpha(alpha)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be RGB [H, W, 3], got shape {image.shape}")
    m = np.asarray(map_)
    if m.ndim != 2:
        raise ValueError(f"map must be [h, w], got shape {m.shape}")
    if box is not None and (
        len(box) != 4 or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) for v in box)
    ):
        raise TypeError(f"box must be 4 whole pixel coordinates (x0, y0, x1, y1), got {box!r}")
    x0, y0, x1, y1 = (int(v) for v in box) if box is not None else (0, 0, image.shape[1], image.shape[0])
    if not (0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]):
        raise ValueError(f"box {box} does not fit inside the image of shape {image.shape}")
    m = m.astype(np.float32) / 255 if m.dtype == np.uint8 else np.nan_to_num(m.astype(np.float32))
    resized = cv2.resize(m, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    out = image.astype(np.float32).copy()
    region = out[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = (1 - alpha) * region + alpha * colorize(resized, cmap)
    return np.clip(out, 0, 255).astype(np.uint8)


WARNING_RGB = (176, 0, 32)


def _font(size: int):
    """DejaVu Sans (shipped with matplotlib, so any token's characters draw) at ``size`` pixels."""
    from matplotlib import font_manager
    from PIL import ImageFont

    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


def _wrap_px(text: str, max_w: int, font) -> list[str]:
    lines, cur = [], ""
    for word in text.split(" "):
        trial = f"{cur} {word}" if cur else word
        if cur and font.getlength(trial) > max_w:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    return [*lines, cur] if cur else lines


def with_legend(
    picture: np.ndarray, cmap: str, title: str, units: str, warning: str | None = None, min_width: int = 420
) -> np.ndarray:
    """``picture`` (RGB uint8) above a white footer: ``title``, a 0-1 colour bar of ``cmap``, the map's
    ``units`` and, in red, any ``warning`` (e.g. :func:`~tam_widgets.record.provenance`).

    The result is at least ``min_width`` pixels wide so the footer stays readable under small pictures.

    >>> with_legend(np.zeros((30, 40, 3), np.uint8), "jet", "cat", "activation (0-1)").shape[1]
    420
    """
    from PIL import Image, ImageDraw

    picture = np.asarray(picture)
    if picture.ndim != 3 or picture.shape[2] != 3 or picture.dtype != np.uint8:
        raise ValueError(f"picture must be RGB uint8 [H, W, 3], got {picture.dtype} of shape {picture.shape}")
    h, w = picture.shape[:2]
    width, pad = max(w, int(min_width)), 8
    font, bold, small = _font(13), _font(13), _font(11)
    inner = width - 2 * pad
    blocks = [(line, font, (0, 0, 0)) for line in _wrap_px(title, inner, bold)]
    bar_at = len(blocks)
    blocks += [(line, small, (40, 40, 40)) for line in _wrap_px(units, inner, small)]
    if warning:
        blocks += [(line, font, WARNING_RGB) for line in _wrap_px(f"⚠ {warning}", inner, font)]
    line_h, bar_h, tick_h = 17, 12, 14
    foot_h = pad + len(blocks) * line_h + bar_h + tick_h + 2 * pad
    canvas = Image.new("RGB", (width, h + foot_h), "white")
    canvas.paste(Image.fromarray(picture), ((width - w) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    y = h + pad
    for k, (line, f, colour) in enumerate(blocks):
        if k == bar_at:  # the colour bar sits between the title and the units
            bar_w = min(inner, 320)
            x0 = (width - bar_w) // 2
            ramp = colorize(np.tile(np.linspace(0, 1, bar_w, dtype=np.float32), (bar_h, 1)), cmap)
            canvas.paste(Image.fromarray(ramp), (x0, y))
            draw.rectangle((x0 - 1, y - 1, x0 + bar_w, y + bar_h), outline=(0, 0, 0))
            for v, anchor in ((0, "lt"), (0.5, "mt"), (1, "rt")):
                draw.text((x0 + v * (bar_w - 1), y + bar_h + 1), f"{v:g}", fill=(0, 0, 0), font=small, anchor=anchor)
            y += bar_h + tick_h + pad
        draw.text((width // 2, y), line, fill=colour, font=f, anchor="mt")
        y += line_h
    return np.asarray(canvas)
