"""tam-widgets: explain multimodal LLMs in Jupyter with Token Activation Maps (TAM).

import tam_widgets as tw
exp = tw.load("Qwen/Qwen2-VL-2B-Instruct").explain(image="street.jpg", prompt="Describe.")
"""

__version__ = "0.1.0"

from .core import TAMResult, tam_from_hidden, tam_from_logits  # noqa: E402
from .explain import Chat, Explainer, load  # noqa: E402
from .models import register_adapter  # noqa: E402
from .record import Explanation, RecordError, Token  # noqa: E402
from .widgets import TokenMapView  # noqa: E402

__all__ = [
    "Chat",
    "Explainer",
    "Explanation",
    "RecordError",
    "TAMResult",
    "Token",
    "TokenMapView",
    "__version__",
    "load",
    "register_adapter",
    "tam_from_hidden",
    "tam_from_logits",
]
