"""Method inputs from tiny random checkpoints of every family (built once per session, no network)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data as skimage_data

import tam_widgets as tw
from tam_widgets.methods import MethodInput
from tam_widgets.testing import FAMILIES, tiny_model

_CACHE: dict[str, tw.explain.Explainer] = {}


def small_photo(kind: str = "astronaut") -> np.ndarray:
    """A 224 x 224 photo: few visual tokens, fast passes."""
    pic = getattr(skimage_data, kind)()
    return np.ascontiguousarray(pic[::2, ::2][:224, :224])


def explainer(family: str):
    if family not in _CACHE:
        _CACHE[family] = tw.load(tiny_model(family), max_new_tokens=4)
    return _CACHE[family]


def make_input(family: str) -> MethodInput:
    chat = explainer(family).chat(images=[small_photo()])
    chat.ask("Describe this image.")
    return chat.method_input()


@pytest.fixture(scope="session", params=FAMILIES)
def family_input(request) -> MethodInput:
    return make_input(request.param)


@pytest.fixture(scope="session")
def qwen_input() -> MethodInput:
    return make_input("qwen2_vl")


@pytest.fixture(scope="session")
def llava_input() -> MethodInput:
    return make_input("llava")
