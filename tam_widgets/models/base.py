"""What every model family's adapter knows: chat inputs, where the visual tokens are, geometry.

An adapter wraps a loaded Hugging Face model and its processor. The pipeline
(:mod:`tam_widgets.explain`) asks it to

* build the processor inputs for one chat segment (text rendered with the chat template, plus
  the images / videos that segment introduces) and merge segments of a multi-turn chat;
* list the visual token spans of a segment: for each image or video, the sequence positions of
  its tokens in grid order, the token grid, and the pixel box each frame's grid covers in the
  original picture;
* name the final normalisation module (its output is the last hidden state) and the LM head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class VisualSpan:
    """The visual tokens of one image or video in a processed segment.

    Attributes:
        kind: ``"image"``, ``"video"`` or ``"thumbnail"``.
        source: index of the image (or video) among the segment's images (videos).
        positions: sequence positions of its tokens, in grid order (frame, row, column).
        grid: ``(h, w)`` or ``(t, h, w)``.
        frames: for each of the ``t`` grid frames, the frame index in the video (``[0]`` for
            an image).
        boxes: ``[t, 4]`` float, the ``(x0, y0, x1, y1)`` box of the original picture, in its
            pixels, that each grid frame covers.

    >>> span = VisualSpan("image", 0, np.arange(5, 11), (2, 3), [0], np.array([[0.0, 0.0, 640.0, 480.0]]))
    >>> span.positions.size == int(np.prod(span.grid))  # one sequence position per grid cell
    True
    """

    kind: str
    source: int
    positions: np.ndarray
    grid: tuple[int, ...]
    frames: list[int]
    boxes: np.ndarray


def positions_of(input_ids: torch.Tensor | np.ndarray, token_id: int) -> np.ndarray:
    """Sequence positions holding ``token_id`` (1-D ids)."""
    ids = input_ids.cpu().numpy() if isinstance(input_ids, torch.Tensor) else np.asarray(input_ids)
    return np.flatnonzero(ids.reshape(-1) == token_id)


def whole_picture_box(picture: np.ndarray) -> list[float]:
    h, w = picture.shape[:2]
    return [0.0, 0.0, float(w), float(h)]


class Adapter:
    """Base adapter; a family subclasses it and registers with :func:`register_adapter`.

    A family overrides :meth:`visual_spans` (where each picture's tokens are and which pixels they
    cover) and, when its model nests them elsewhere, :meth:`final_norm` and :meth:`lm_head`; chat inputs
    come from the checkpoint's processor and chat template.

    Example (the shape of LLaVA's adapter; see "Adding a model family" in the docs)::

        import math

        import numpy as np

        from tam_widgets.models import Adapter, VisualSpan, register_adapter
        from tam_widgets.models.base import positions_of, whole_picture_box


        @register_adapter("my_vlm")  # config.model_type of the checkpoints it serves
        class MyAdapter(Adapter):
            family = "MyVLM"

            def visual_spans(self, input_ids, inputs, images, videos):
                pos = positions_of(input_ids, self.model.config.image_token_id)
                n = len(pos) // len(images)  # tokens per picture: a square grid here
                side = math.isqrt(n)
                return [VisualSpan("image", i, pos[i * n:(i + 1) * n], (side, side), [0],
                                   np.array([whole_picture_box(img)]))
                        for i, img in enumerate(images)]
    """

    family: str = "base"
    model_types: tuple[str, ...] = ()
    supports_video: bool = False

    def __init__(self, model, processor):
        self.model = model
        self.processor = processor
        self.tokenizer = getattr(processor, "tokenizer", processor)

    # -- chat inputs ---------------------------------------------------------------------------
    def content(self, text: str, n_images: int, n_videos: int) -> list[dict]:
        """A user message's content in the transformers chat format (media first, then text)."""
        if n_videos and not self.supports_video:
            raise ValueError(f"{self.family} models do not take video input; pass images instead")
        parts = [{"type": "image"}] * n_images + [{"type": "video"}] * n_videos
        return [*parts, {"type": "text", "text": text}]

    def render(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        """The conversation as text, through the checkpoint's own chat template."""
        return self.processor.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=False)

    def video_kwargs(self, videos: list[list[np.ndarray]]) -> dict:
        """Extra processor keywords for frame lists (no sampling, no metadata fetching)."""
        return {}

    def process(self, text: str, images: list[np.ndarray], videos: list[list[np.ndarray]], first: bool = True) -> dict:
        """Run the processor on one segment; returns tensors with a batch dimension of 1.

        Later segments of a chat continue the sequence, so they get no BOS token.
        """
        kwargs: dict = {
            "text": [text],
            "return_tensors": "pt",
            "return_offsets_mapping": True,
            "return_text_replacement_offsets": True,
        }
        if not first:
            kwargs["add_special_tokens"] = False
        if images:
            kwargs["images"] = list(images)
            # Our pictures are [H, W, 3]; without this a picture 1 or 3 pixels high reads as channels-first.
            kwargs["input_data_format"] = "channels_last"
        if videos:
            low = [v[0].shape[:2] for v in videos if v and min(v[0].shape[:2]) <= 3]
            if low:
                raise ValueError(
                    f"video frames of {low[0][1]} x {low[0][0]} pixels are too small: the video processor misreads "
                    "frames 3 pixels high or less; upscale them"
                )
            kwargs["videos"] = [list(v) for v in videos]
            kwargs.update(self.video_kwargs(kwargs["videos"]))
        return dict(self.processor(**kwargs))

    #: processor outputs that are per-image (or per-video) and concatenate along dim 0
    concat_keys: tuple[str, ...] = ("pixel_values",)
    #: processor outputs with one entry per token (dim 1)
    token_keys: tuple[str, ...] = ("input_ids", "attention_mask", "mm_token_type_ids", "token_type_ids")

    @staticmethod
    def _text_tokens(key: str, n: int, dtype: torch.dtype = torch.long) -> torch.Tensor:
        """``[1, n]`` values of a per-token key for plain text tokens (attended, no media)."""
        return torch.full((1, n), 1 if key == "attention_mask" else 0, dtype=dtype)

    def resize_tokens(self, inputs: dict, length: int, input_ids: torch.Tensor | None = None) -> dict:
        """``inputs`` cut or extended (with text tokens) to ``length`` tokens; new ids if given."""
        out = dict(inputs)
        for key in self.token_keys:
            if key not in out or key == "input_ids":
                continue
            v = out[key][:, :length]
            if v.shape[1] < length:
                v = torch.cat([v, self._text_tokens(key, length - v.shape[1], v.dtype)], 1)
            out[key] = v
        out["input_ids"] = input_ids[None] if input_ids is not None else out["input_ids"][:, :length]
        return out

    def merge(self, first: dict, second: dict) -> dict:
        """Inputs of two consecutive segments as one sequence (multi-turn chats)."""
        out = dict(first)
        n1, n2 = first["input_ids"].shape[1], second["input_ids"].shape[1]
        for key in self.token_keys:
            if key in first or key in second:
                a = first.get(key, self._text_tokens(key, n1))
                b = second.get(key, self._text_tokens(key, n2))
                out[key] = torch.cat([a, b.to(a.dtype)], 1)
        for key in self.concat_keys:
            if key in second:
                out[key] = torch.cat([first[key], second[key]], 0) if key in first else second[key]
        return out

    def batch_problem(self) -> str | None:
        """Why this family's inputs cannot share a generation batch, or None (all built-in families can)."""
        return None

    def collate(self, inputs: list[dict], pad_id: int) -> dict:
        """Processed inputs (each a batch of 1) as one batch: the per-token keys left-padded to the longest
        (``pad_id``, attention 0), the per-picture keys concatenated in order. ``ValueError`` on a key
        it does not know how to batch."""
        width = max(int(x["input_ids"].shape[1]) for x in inputs)
        out: dict = {}
        for key in dict.fromkeys(k for x in inputs for k in x):
            if key in self.token_keys:
                rows = []
                for x in inputs:
                    n = int(x["input_ids"].shape[1])
                    v = x[key] if key in x else self._text_tokens(key, n)
                    fill = pad_id if key == "input_ids" else 0
                    rows.append(torch.cat([torch.full((1, width - n), fill, dtype=v.dtype), v], 1))
                out[key] = torch.cat(rows, 0)
            elif key in self.concat_keys:
                out[key] = torch.cat([x[key] for x in inputs if key in x], 0)
            else:
                raise ValueError(f"the {self.family} processor output {key!r} cannot be batched; explain one at a time")
        return out

    # -- geometry ------------------------------------------------------------------------------
    def visual_spans(
        self, input_ids: np.ndarray, inputs: dict, images: list[np.ndarray], videos: list[list[np.ndarray]]
    ) -> list[VisualSpan]:
        """The visual spans of a processed segment, in sequence order."""
        raise NotImplementedError

    # -- model parts ---------------------------------------------------------------------------
    def final_norm(self) -> torch.nn.Module:
        """The module whose output is the text model's last hidden state."""
        lm = self.model.model.language_model if hasattr(self.model.model, "language_model") else self.model.model
        return lm.norm

    def lm_head(self) -> torch.nn.Module:
        return self.model.get_output_embeddings()

    def special_ids(self) -> set[int]:
        return set(self.tokenizer.all_special_ids)

    #: processor attributes naming media placeholder strings (they expand into visual tokens)
    placeholder_attrs: tuple[str, ...] = ("image_token", "video_token", "start_image_token", "end_image_token")

    def control_strings(self) -> list[str]:
        """Strings that the tokenizer or processor turn into control tokens rather than text.

        Every added token of the tokenizer (special or not: ``<|im_end|>``, ``<image>``, ``<tool_call>``)
        and the processor's media placeholders, longest first.
        """
        found = set(self.tokenizer.get_added_vocab())
        found.update(v for a in self.placeholder_attrs if isinstance(v := getattr(self.processor, a, None), str))
        return sorted((s for s in found if s), key=lambda s: (-len(s), s))

    def placeholder_ids(self) -> list[int]:
        """Ids of the processor's media placeholders (``<|image_pad|>``, ``<image>``, ...): a model must not
        write them, since the next turn would count them as pictures it does not have.

        >>> from types import SimpleNamespace
        >>> tok = SimpleNamespace(convert_tokens_to_ids=lambda s: {"<image>": 7}.get(s, 0), unk_token_id=0)
        >>> a = object.__new__(Adapter); a.tokenizer, a.processor = tok, SimpleNamespace(image_token="<image>")
        >>> a.placeholder_ids()
        [7]
        """
        names = {v for a in self.placeholder_attrs if isinstance(v := getattr(self.processor, a, None), str) and v}
        unknown = getattr(self.tokenizer, "unk_token_id", None)
        ids = {self.tokenizer.convert_tokens_to_ids(s) for s in names}
        return sorted(i for i in ids if isinstance(i, int) and i >= 0 and i != unknown)

    def check_user_text(self, text: str) -> None:
        """Refuse user text holding a control string: it would become a real special token and could forge
        a turn (``<|im_end|>``) or a picture (``<image>``). Raises ``ValueError`` naming the string."""
        hits = [s for s in self.control_strings() if s in text]
        if hits:
            listed = ", ".join(repr(s) for s in hits[:5])
            raise ValueError(
                f"the prompt contains {listed}, which the {self.family} tokenizer reads as a control token, not "
                "text (it could forge a chat turn or a picture). Remove it, or pass allow_special_tokens=True "
                "if you mean it as a control token."
            )
