"""One adapter per model family, registered by ``config.model_type``.

>>> sorted(SUPPORTED)[:2]
['internvl', 'llava']

To support another family, subclass :class:`Adapter` and register it::

    @register_adapter("my_vlm")
    class MyAdapter(Adapter):
        ...
"""

from __future__ import annotations

from .base import Adapter, VisualSpan

SUPPORTED: dict[str, type[Adapter]] = {}
"""The adapter class for each supported ``config.model_type`` (filled by :func:`register_adapter`).

>>> SUPPORTED["llava"].family, SUPPORTED["qwen2_vl"].supports_video
('LLaVA', True)
"""


def register_adapter(*model_types: str):
    """Class decorator: use this adapter for models whose ``config.model_type`` is one of these.

    >>> @register_adapter("my_vlm")
    ... class MyAdapter(Adapter):
    ...     family = "MyVLM"
    >>> SUPPORTED["my_vlm"] is MyAdapter, MyAdapter.model_types
    (True, ('my_vlm',))
    >>> del SUPPORTED["my_vlm"]
    """

    def wrap(cls: type[Adapter]) -> type[Adapter]:
        for t in model_types:
            SUPPORTED[t] = cls
        cls.model_types = tuple(model_types)
        return cls

    return wrap


def adapter_for(model, processor) -> Adapter:
    """The registered adapter for ``model`` (by ``model.config.model_type``).

    >>> from types import SimpleNamespace
    >>> adapter_for(SimpleNamespace(config=SimpleNamespace(model_type="llava")), processor=None).family
    'LLaVA'
    >>> adapter_for(SimpleNamespace(config=SimpleNamespace(model_type="gpt2")), None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: unsupported model_type 'gpt2'. Supported: ...
    """
    model_type = getattr(model.config, "model_type", None)
    try:
        cls = SUPPORTED[model_type]
    except KeyError:
        raise ValueError(
            f"unsupported model_type {model_type!r}. Supported: {', '.join(sorted(SUPPORTED))}. "
            "To add a family, subclass tam_widgets.models.Adapter and decorate it with "
            f"@tam_widgets.models.register_adapter({model_type!r})."
        ) from None
    return cls(model, processor)


from . import internvl, llava, qwen_vl  # noqa: E402,F401  (register the built-in families)

__all__ = ["SUPPORTED", "Adapter", "VisualSpan", "adapter_for", "register_adapter"]
