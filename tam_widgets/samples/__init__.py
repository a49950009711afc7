"""Three photos shipped with the package, so tutorials run after a plain ``pip install``.

From scikit-image's ``skimage.data`` (downscaled to 448 px): ``"chelsea"`` (a cat; CC0, Stéfan van
der Walt), ``"astronaut"`` (Eileen Collins; public domain, NASA), ``"coffee"`` (a cup of coffee;
CC0, Rachel Michetti).

>>> from tam_widgets.samples import sample_image
>>> sample_image("chelsea").shape
(298, 448, 3)
"""

from __future__ import annotations

from importlib import resources

import numpy as np

NAMES = ("chelsea", "astronaut", "coffee")


def sample_image(name: str) -> np.ndarray:
    """The shipped photo ``name`` as an RGB uint8 array ``[H, W, 3]``."""
    from PIL import Image

    from ..pictures import to_rgb8

    if name not in NAMES:
        raise ValueError(f"no sample image {name!r}; choose one of {', '.join(NAMES)}")
    with resources.files(__name__).joinpath(f"{name}.jpg").open("rb") as f, Image.open(f) as im:
        return to_rgb8(im)
