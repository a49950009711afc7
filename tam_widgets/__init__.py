"""tam-widgets: explain multimodal LLMs in Jupyter with Token Activation Maps (TAM).

import tam_widgets as tw
exp = tw.load("Qwen/Qwen2-VL-2B-Instruct").explain(image="street.jpg", prompt="Describe.")

``import tam_widgets`` does not import torch or transformers: reading, showing and drawing a saved
record (``tw.Explanation.load``, ``exp.to_html``, ``exp.figure``, ``exp.show``) never needs the model
stack. The names that do (``load``, ``Explainer``, ``Chat``, ``tam_from_logits``, ``tam_from_hidden``,
``TAMResult``, ``register_adapter``) are imported on first use; without torch they raise a clear
``ImportError`` when called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import studies as studies  # torch-free: failure-case studies (tw.studies.okvqa, tw.studies.Study, ...)
from ._version import __version__
from .compare import compare  # torch-free until called (tw.compare runs several models)
from .compare_runs import RunComparison, compare_runs  # torch-free: evaluation runs side by side
from .record import Explanation, RecordError, Token
from .widgets import (  # also registers the explorer as the records' viewer
    ChatTimeline,
    CompareView,
    FailureCaseBoard,
    TokenMapView,
)

if TYPE_CHECKING:
    from .core import TAMResult, tam_from_hidden, tam_from_logits
    from .explain import Chat, ChatEvent, Explainer, load
    from .models import register_adapter

#: Names that need torch, and the module each comes from (imported on first use).
_LAZY = {
    "Chat": ".explain",
    "ChatEvent": ".explain",
    "Explainer": ".explain",
    "load": ".explain",
    "TAMResult": ".core",
    "tam_from_hidden": ".core",
    "tam_from_logits": ".core",
    "register_adapter": ".models",
}


def __getattr__(name: str) -> Any:
    """Import a name that needs torch on first use; without torch, a stand-in that raises when called."""
    if name not in _LAZY:
        raise AttributeError(f"module 'tam_widgets' has no attribute {name!r}")
    try:
        module = importlib.import_module(_LAZY[name], __name__)
    except ImportError as err:
        return _needs_model_stack(name, err)
    value = getattr(module, name)
    globals()[name] = value
    return value


def _needs_model_stack(name: str, err: ImportError) -> Any:
    """A stand-in for ``tam_widgets.<name>`` raising a clear ``ImportError`` when called."""
    message = (
        f"tam_widgets.{name} needs the model stack (torch and transformers), which cannot be imported "
        f"({err}); install them (pip install tam-widgets) to explain models. Saved records load, show and "
        "draw without them."
    )

    def missing(*args: Any, **kwargs: Any) -> Any:
        raise ImportError(message) from err

    missing.__name__ = missing.__qualname__ = name
    missing.__doc__ = message
    return missing


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "Chat",
    "ChatEvent",
    "ChatTimeline",
    "CompareView",
    "Explainer",
    "Explanation",
    "FailureCaseBoard",
    "RecordError",
    "RunComparison",
    "TAMResult",
    "Token",
    "TokenMapView",
    "__version__",
    "compare",
    "compare_runs",
    "load",
    "register_adapter",
    "tam_from_hidden",
    "tam_from_logits",
]
