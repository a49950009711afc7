"""tam-widgets: explain multimodal LLMs in Jupyter with Token Activation Maps (TAM)."""

__version__ = "0.1.0"

from .core import TAMResult, tam_from_hidden, tam_from_logits  # noqa: E402

__all__ = ["TAMResult", "__version__", "tam_from_hidden", "tam_from_logits"]
