"""One rule for turning any picture into the RGB uint8 ``[H, W, 3]`` array the models see.

:func:`to_rgb8` takes a path, a PIL image, a numpy array or a torch tensor, keeps its range (a 16-bit PNG
stays a 16-bit picture scaled to 8 bits, not a white one) and refuses what it cannot convert faithfully,
with a message that says what to do:

* **8-bit PIL modes** (``1``, ``L``, ``P``, ``RGB``, ``CMYK``, ``YCbCr``, ``LAB``, ``HSV``, ``RGBX``) convert
  with Pillow's own colour conversion.
* **16-bit** (PIL ``I;16``, ``I;16B``, ``I;16L``; numpy ``uint16``) is scaled by 255 / 65535. PIL mode ``I``
  (32-bit, which Pillow uses for 16-bit PNG/TIFF files) is read as 16-bit: values outside 0..65535 are refused.
* **Float** (PIL ``F``; numpy/torch float16/32/64) must lie in [0, 1] and is scaled by 255. Float data in
  0..255 is refused rather than guessed (divide it by 255 first). NaN and infinity are refused.
* **bool** is black/white. Other integer dtypes (``int8`` .. ``int64``, ``uint32``, ``uint64``) have no
  standard picture range and are refused: convert them to ``uint8`` or ``uint16``.
* **Alpha** (``LA``, ``PA``, ``RGBA``, ``P`` with transparency, ``[H, W, 2]`` and ``[H, W, 4]`` arrays) is
  composited over ``background`` (white by default, the page colour of the views).
* **Shapes**: numpy arrays are ``[H, W]``, ``[H, W, 1|2|3|4]`` (channels last); torch tensors follow
  torchvision, ``[H, W]`` or ``[1|2|3|4, H, W]`` (channels first).
* **Files** are opened with Pillow; the EXIF orientation of a photo is applied (as photo viewers do). A
  missing path, a folder, a file Pillow cannot read, an empty picture and one of more than
  :data:`MAX_PIXELS` pixels are refused (huge files before their pixels are decoded).

>>> import numpy as np
>>> to_rgb8(np.full((2, 3), 65535, np.uint16))[0, 0].tolist()
[255, 255, 255]
>>> to_rgb8(np.array([[0.0, 0.5]]))[0].tolist()
[[0, 0, 0], [128, 128, 128]]
>>> to_rgb8(np.array([[0.0, 255.0]]))
Traceback (most recent call last):
...
ValueError: a float picture must lie in [0, 1]; this one spans [0, 255] (0-255 data? divide it by 255 first)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

#: the largest picture accepted (64 megapixels, e.g. 8000 x 8000); the models downscale far below this
MAX_PIXELS = 64_000_000

#: PIL modes that Pillow converts to RGB without losing range (8 bits per channel)
_PIL_8BIT = {"1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
_PIL_ALPHA = {"LA", "PA", "RGBA", "RGBa", "La"}
_PIL_16BIT = {"I;16", "I;16B", "I;16L", "I;16N", "I"}


def to_rgb8(picture, *, background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """An RGB uint8 ``[H, W, 3]`` array of ``picture``, with its range kept; see the module docs for the rules.

    Args:
        picture: a path (``str`` / ``os.PathLike``), a PIL image, a numpy array or a torch tensor.
        background: the RGB colour transparent pixels are composited over.

    Raises:
        FileNotFoundError: a path that does not exist.
        ValueError: anything that cannot be converted faithfully (the message says why and what to do).

    >>> to_rgb8(np.zeros((2, 2, 4), np.uint8)).tolist()[0][0]  # fully transparent over white
    [255, 255, 255]
    """
    if isinstance(picture, (str, os.PathLike)):
        return _from_file(Path(picture), background)
    if hasattr(picture, "mode") and hasattr(picture, "convert"):  # a PIL image
        return _from_pil(picture, background, "the PIL image")
    if type(picture).__module__.startswith("torch"):
        arr = picture.detach().cpu().numpy()
        if arr.ndim == 3:
            if arr.shape[0] not in (1, 2, 3, 4):
                raise ValueError(
                    f"a torch tensor picture is [C, H, W] with C in 1..4 (torchvision layout), got shape "
                    f"{tuple(arr.shape)}; pass a numpy array for channels-last pictures"
                )
            arr = np.moveaxis(arr, 0, -1)
        return _from_array(arr, background)
    if isinstance(picture, np.ndarray):
        return _from_array(picture, background)
    raise ValueError(
        f"a picture is a path, a PIL image, a numpy array or a torch tensor; got {type(picture).__name__}"
    )


def _check_size(h: int, w: int, what: str) -> None:
    if h < 1 or w < 1:
        raise ValueError(f"{what} is empty ({w} x {h} pixels)")
    if h * w > MAX_PIXELS:
        raise ValueError(
            f"{what} has {w} x {h} = {h * w / 1e6:.0f} megapixels, more than the {MAX_PIXELS / 1e6:.0f} accepted: "
            "downscale it first (the models see far fewer pixels anyway)"
        )


def _from_file(path: Path, background) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not path.exists():
        raise FileNotFoundError(f"picture {path} does not exist")
    if path.is_dir():
        raise ValueError(f"picture {path} is a folder, not an image file")
    try:
        im = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombError) as e:
        if isinstance(e, Image.DecompressionBombError):
            raise ValueError(f"picture {path} is too large to open: {e}") from None
        raise ValueError(f"cannot read {path} as a picture: not an image format Pillow knows") from None
    with im:
        _check_size(im.height, im.width, f"picture {path}")  # before any pixel is decoded
        try:
            im.load()
            im = ImageOps.exif_transpose(im) or im
        except (OSError, SyntaxError) as e:
            raise ValueError(f"cannot decode picture {path}: {e} (a truncated or damaged file?)") from None
        return _from_pil(im, background, f"picture {path}")


def _from_pil(im, background, what: str) -> np.ndarray:
    _check_size(im.height, im.width, what)
    mode = im.mode
    if mode == "P" and "transparency" in im.info:
        im, mode = im.convert("RGBA"), "RGBA"
    if mode in _PIL_8BIT:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    if mode in _PIL_ALPHA:
        return _composite(np.asarray(im.convert("RGBA")), background)
    if mode in _PIL_16BIT:
        arr = np.asarray(im).astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ValueError(
                f"{what} (mode {mode}) has values in [{arr.min()}, {arr.max()}]; 32-bit integer pictures are read as "
                "16-bit (0-65535): rescale it to 0-65535 or to 8 bits first"
            )
        return _from_array(arr.astype(np.uint16), background)
    if mode == "F":
        return _from_array(np.asarray(im, dtype=np.float32), background)
    raise ValueError(f"{what} has PIL mode {mode!r}, which tam-widgets does not convert: convert it to 'RGB' first")


def _from_array(arr: np.ndarray, background) -> np.ndarray:
    if arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4) and arr.shape[0] in (1, 3, 4):
        raise ValueError(
            f"a picture array is [H, W] or [H, W, 3] (channels last), got shape {arr.shape}: it looks channels-first, "
            "use arr.transpose(1, 2, 0)"
        )
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"a picture array is [H, W, 3] RGB (or [H, W], [H, W, 1], [H, W, 2], [H, W, 4]), got shape "
                         f"{arr.shape}")
    _check_size(arr.shape[0], arr.shape[1], f"the {arr.dtype} picture array")
    if arr.ndim == 2:
        arr = arr[..., None]
    kind = arr.dtype.kind
    if arr.dtype == np.uint8:
        out = arr
    elif kind == "b":
        out = arr.astype(np.uint8) * 255
    elif kind == "u" and arr.dtype.itemsize == 2:
        out = np.round(arr.astype(np.float32) * (255.0 / 65535.0)).astype(np.uint8)
    elif kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError("the float picture holds NaN or infinite values: replace them before explaining")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 1:
            raise ValueError(
                f"a float picture must lie in [0, 1]; this one spans [{lo:g}, {hi:g}]"
                + (" (0-255 data? divide it by 255 first)" if lo >= 0 and hi <= 255 else "")
            )
        out = np.round(arr.astype(np.float32) * 255.0).astype(np.uint8)
    elif kind in "iu":
        raise ValueError(
            f"a {arr.dtype} picture array has no standard range: pass uint8 (0-255), uint16 (0-65535) or float in "
            "[0, 1], e.g. arr.astype(np.uint8) if its values are 0-255"
        )
    else:
        raise ValueError(f"a picture array holds numbers; got dtype {arr.dtype}")
    channels = out.shape[2]
    if channels == 1:
        out = np.repeat(out, 3, -1)
    elif channels == 2:
        out = _composite(np.concatenate([np.repeat(out[..., :1], 3, -1), out[..., 1:]], -1), background)
    elif channels == 4:
        out = _composite(out, background)
    return np.ascontiguousarray(out)


def _composite(rgba: np.ndarray, background) -> np.ndarray:
    """``[H, W, 4]`` uint8 over a solid ``background`` colour."""
    alpha = rgba[..., 3:].astype(np.float32) / 255.0
    bg = np.asarray(background, np.float32).reshape(1, 1, 3)
    return np.round(rgba[..., :3].astype(np.float32) * alpha + bg * (1 - alpha)).astype(np.uint8)
