"""Tiny, randomly initialised, fully offline checkpoints of real vision-language model families.

``tiny_model(family)`` builds a checkpoint of the *real* transformers classes of a family (the same model class,
processor class, special-token strings and chat format as the public checkpoints) with two layers, hidden size 64,
a BPE tokenizer of 500-650 tokens trained locally on an inline corpus, and image processors set to give 36-112 visual
tokens per photo. It is saved with ``save_pretrained`` and loads with ``AutoModelForImageTextToText`` /
``AutoProcessor`` without network. Weights are random (fixed seed): generations are garbage, but deterministic.

Families and what they mirror:

``qwen2_vl``   Qwen2-VL-Instruct: Qwen2 tokenizer, patch 14, merge 2, default system turn.
``qwen2_5_vl`` Qwen2.5-VL-Instruct: same format, window-attention vision tower.
``qwen3_vl``   Qwen3-VL-Instruct: patch 16, merge 2, deepstack, no default system turn, timestamped video frames.
``llava``      llava-hf/llava-1.5: CLIP vision tower + Llama, ``USER: <image>\\n... ASSISTANT:``.
``internvl``   OpenGVLab/InternVL3-*-hf: GotOcr2 image processor (tiles + thumbnail), Qwen2 text model.

Video (Qwen families) is passed as ``videos=[frames]`` with ``frames`` a list of uint8 ``[H, W, 3]`` arrays (or one
``[T, H, W, 3]`` array); pass ``do_sample_frames=False`` so the frames are used as given, and
``video_metadata={"fps": fps, "total_num_frames": T, "frames_indices": list(range(T))}`` to give Qwen2.5-VL / Qwen3-VL
real timing (without it they assume 24 fps and Qwen3-VL logs a warning). Nothing is ever fetched.

Every checkpoint's ``config.json`` holds ``"tam_widgets_untrained": true`` (:data:`UNTRAINED_KEY`): explanations
made with it carry ``metadata["untrained"] = True`` and every view warns that the maps mean nothing.
"""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import shutil
import tempfile
import threading

FAMILIES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava", "internvl")
#: the ``config.json`` key that marks a checkpoint as untrained (random weights)
UNTRAINED_KEY = "tam_widgets_untrained"

_SEED = 0
_HIDDEN = 64  # text hidden size (and projector output) of every family
_CACHE: dict[str, pathlib.Path] = {}
_TEMP_DIRS: list[pathlib.Path] = []
_LOCK = threading.Lock()

# ---------------------------------------------------------------------------------------------------------------------
# Tokenizer training corpus (written for this module) and special tokens
# ---------------------------------------------------------------------------------------------------------------------

_CORPUS = """\
What is in this image?
What is shown in the picture?
Describe the image in detail.
Describe this photo in one sentence.
The image shows a cat sitting on a wooden table.
A small grey cat is sleeping on a red sofa.
A dog is running across the green grass with a yellow ball.
The astronaut is wearing a white space suit and holds a helmet.
There is an American flag behind the astronaut.
Two birds are flying over the blue sea at sunset.
A woman with long brown hair is smiling at the camera.
A man in a black jacket is riding a bicycle down the street.
The red car is parked next to a tall building.
A bowl of fresh fruit: apples, oranges and bananas.
The sky is blue and there are a few white clouds.
What colour is the cat? The cat is grey and white.
What colour is the car? The car is red.
How many people are in the picture? There are three people.
How many dogs can you see? I can see two dogs.
Where is the ball? The ball is under the chair.
Is there a tree in the image? Yes, there is a large tree on the left.
Is the door open? No, the door is closed.
What are the differences between these two images?
The first image shows a cat and the second image shows a dog.
Compare the two pictures and tell me what changed.
What happens in this video?
In the video a person walks into the room and sits down.
The camera moves slowly from left to right.
Answer the question using a single word or phrase.
Please answer briefly and clearly.
Read the text in the image.
The sign says: stop, slow, open 24 hours.
The clock on the wall shows ten past nine.
A green plant stands near the window in the corner of the room.
The picture is dark, blurry and taken at night.
The cat has green eyes, long whiskers and soft fur.
The rocket launches into the sky with fire and smoke.
Children are playing football in the park on a sunny day.
A cup of coffee and a book lie on the desk.
The mountains are covered with snow and the lake is calm.
Objects: cat, dog, ball, car, tree, house, person, chair, table, cup.
Colours: red, green, blue, yellow, orange, purple, black, white, grey, brown, pink.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 12 20 100 2024.
You are a helpful assistant.
user: What is this? assistant: It is a cat.
USER: What is this? ASSISTANT: A photo of an astronaut.
Picture 1: a cat. Picture 2: a dog. Video 1: a street.
Frame1: the first frame. Frame2: the second frame.
<0.5 seconds> <1.5 seconds> <2.5 seconds> <3.5 seconds>
I am not sure, the image is too small to tell.
Thank you! You are welcome.
The system message says that you are a helpful assistant.
The user asks a question about the image and the assistant answers it.
USER: What is in the image? ASSISTANT: There is a cat in the image.
USER: Describe the video. ASSISTANT: A dog runs in the park.
system
user
assistant
system: You are a helpful assistant.
user: Describe the picture.
assistant: The picture shows a red car.
"""

_QWEN_SPECIAL = [  # special=True, in the order (and so with the relative ids) of the Qwen2-VL tokenizer
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
_QWEN25_EXTRA = [  # added but not special in Qwen2.5 / Qwen3 tokenizers
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
]
_QWEN3_EXTRA = ["<tool_response>", "</tool_response>", "<think>", "</think>"]
_INTERNVL_SPECIAL = ["<img>", "</img>", "<IMG_CONTEXT>", "<quad>", "</quad>", "<ref>", "</ref>", "<box>", "</box>"]

_QWEN_PRETOKENIZE = (  # the Qwen2 tokenizer's split regex
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


def _corpus() -> list[str]:
    return [line for line in _CORPUS.splitlines() if line.strip()]


def _pad64(n: int) -> int:
    return (n + 63) // 64 * 64


def _train_qwen_bpe(vocab_size: int = 640) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Byte-level BPE with the Qwen2 pre-tokenizer (NFC, regex split, byte-level), trained on the inline corpus."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN_PRETOKENIZE), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_corpus(), trainer)
    model = json.loads(tok.to_str())["model"]
    return dict(model["vocab"]), [tuple(m) for m in model["merges"]]


def _train_llama_bpe(vocab_size: int = 400) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """SentencePiece-style BPE (``▁`` word prefix, byte fallback) as used by the Llama-2 / Vicuna tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False)
    tok.train_from_iterator(_corpus(), trainer)
    model = json.loads(tok.to_str())["model"]
    trained = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    # Llama layout: <unk> <s> </s>, the 256 byte-fallback tokens, then the learned pieces
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece, _ in trained:
        vocab.setdefault(piece, len(vocab))
    return vocab, [tuple(m) for m in model["merges"]]


def _qwen_tokenizer(family: str):
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    vocab, merges = _train_qwen_bpe()
    special = list(_QWEN_SPECIAL)
    plain = [] if family == "qwen2_vl" else list(_QWEN25_EXTRA)
    if family == "qwen3_vl":
        plain += _QWEN3_EXTRA
    named = {}
    if family == "internvl":
        special += _INTERNVL_SPECIAL + ["<video>"]
        named = {
            "start_image_token": "<img>",
            "end_image_token": "</img>",
            "context_image_token": "<IMG_CONTEXT>",
            "video_token": "<video>",
        }
    for tok in special[:14] + plain + special[14:]:  # real id order: Qwen specials, Qwen2.5 extras, InternVL tokens
        vocab[tok] = len(vocab)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=[t for t in special if t not in ("<|endoftext|>", "<|im_end|>")],
        errors="replace",
        split_special_tokens=False,
        model_max_length=32768,
        **named,
    )
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in plain])
    return tokenizer


def _llama_tokenizer():
    from transformers import LlamaTokenizer

    vocab, merges = _train_llama_bpe()
    vocab["<image>"] = len(vocab)  # llava-1.5-hf: <image> = 32000, <pad> = 32001, right after the base vocabulary
    vocab["<pad>"] = len(vocab)
    return LlamaTokenizer(
        vocab=vocab,
        merges=merges,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens=["<image>"],
        add_bos_token=True,
        add_eos_token=False,
        legacy=False,
        padding_side="left",
        model_max_length=4096,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Chat templates (same rendered format as the public checkpoints)
# ---------------------------------------------------------------------------------------------------------------------

_QWEN_ITEMS = (
    "{%- macro render_content(content) -%}"
    "{%- if content is string -%}{{- content -}}"
    "{%- else -%}{%- for item in content -%}"
    "{%- if item['type'] == 'image' or 'image' in item or 'image_url' in item -%}"
    "{%- set counts.image = counts.image + 1 -%}"
    "{%- if add_vision_id -%}{{- 'Picture ' ~ counts.image ~ ': ' -}}{%- endif -%}"
    "{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}"
    "{%- elif item['type'] == 'video' or 'video' in item -%}"
    "{%- set counts.video = counts.video + 1 -%}"
    "{%- if add_vision_id -%}{{- 'Video ' ~ counts.video ~ ': ' -}}{%- endif -%}"
    "{{- '<|vision_start|><|video_pad|><|vision_end|>' -}}"
    "{%- elif 'text' in item -%}{{- item['text'] -}}"
    "{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{%- endmacro -%}"
    "{%- set counts = namespace(image=0, video=0) -%}"
)

# Qwen2-VL / Qwen2.5-VL: a default system turn when the conversation does not start with one.
_QWEN2_TEMPLATE = (
    _QWEN_ITEMS + "{%- for message in messages -%}"
    "{%- if loop.first and message['role'] != 'system' -%}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['role'] == 'assistant' -%}{% generation %}{{- render_content(message['content']) -}}"
    "{{- '<|im_end|>' -}}{% endgeneration %}{{- '\\n' -}}"
    "{%- else -%}{{- render_content(message['content']) + '<|im_end|>\\n' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

# Qwen3-VL: no default system turn; a system turn keeps only its text.
_QWEN3_TEMPLATE = (
    _QWEN_ITEMS + "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['role'] == 'system' and message['content'] is not string -%}"
    "{%- for item in message['content'] if 'text' in item -%}{{- item['text'] -}}{%- endfor -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- elif message['role'] == 'assistant' -%}{% generation %}{{- render_content(message['content']) -}}"
    "{{- '<|im_end|>' -}}{% endgeneration %}{{- '\\n' -}}"
    "{%- else -%}{{- render_content(message['content']) + '<|im_end|>\\n' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

# llava-hf LLaVA-1.5: "USER: <image>\n<question> ASSISTANT: <answer> USER: ... ASSISTANT:"
# Images of a turn come first (one "<image>\n" each), then its texts, each followed by a space.
_LLAVA_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] != 'system' -%}{{- message['role'] | upper + ': ' -}}{%- endif -%}"
    "{%- if message['content'] is string -%}"
    "{%- if message['role'] == 'assistant' -%}{% generation %}{{- message['content'] + ' ' -}}{% endgeneration %}"
    "{%- else -%}{{- message['content'] + ' ' -}}{%- endif -%}"
    "{%- else -%}"
    "{%- for item in message['content'] if item['type'] == 'image' -%}{{- '<image>\\n' -}}{%- endfor -%}"
    "{%- for item in message['content'] if item['type'] == 'text' -%}"
    "{%- if message['role'] == 'assistant' -%}{% generation %}{{- item['text'] + ' ' -}}{% endgeneration %}"
    "{%- else -%}{{- item['text'] + ' ' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}"
)

# InternVL-hf: ChatML without a default system turn; one "<IMG_CONTEXT>\n" per image and "<video>\n" per video,
# which the processor expands to "<img><IMG_CONTEXT>*n</img>" (tiles + thumbnail) and "Frame1: <img>...</img>\n...".
_INTERNVL_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' -%}{{- '<IMG_CONTEXT>\\n' -}}"
    "{%- elif item['type'] == 'video' -%}{{- '<video>\\n' -}}"
    "{%- elif item['type'] == 'text' -%}{{- item['text'] -}}"
    "{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

# ---------------------------------------------------------------------------------------------------------------------
# Per-family builders: (model, processor, generation config)
# ---------------------------------------------------------------------------------------------------------------------


def _qwen_text_kwargs(tok, mrope_section: list[int], **extra) -> dict:
    return dict(
        vocab_size=_pad64(len(tok)),
        hidden_size=_HIDDEN,
        intermediate_size=2 * _HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": mrope_section},
        pad_token_id=tok.pad_token_id,
        **extra,
    )


def _qwen_ids(tok) -> dict:
    ids = tok.convert_tokens_to_ids
    return dict(
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )


def _build_qwen(family: str):
    import transformers as tf

    tok = _qwen_tokenizer(family)
    eos, pad = tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")
    if family == "qwen3_vl":
        patch, mean, std = 16, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]
    else:
        patch, mean, std = 14, tf.image_utils.OPENAI_CLIP_MEAN, tf.image_utils.OPENAI_CLIP_STD
    unit = (2 * patch) ** 2  # pixels of one visual token (a 2x2 block of patches)
    image_processor = tf.Qwen2VLImageProcessor(
        size={"shortest_edge": 4 * unit, "longest_edge": 100 * unit},  # <= 100 tokens per image
        patch_size=patch,
        temporal_patch_size=2,
        merge_size=2,
        image_mean=mean,
        image_std=std,
    )
    video_kwargs = dict(patch_size=patch, temporal_patch_size=2, merge_size=2, image_mean=mean, image_std=std)
    if family == "qwen3_vl":
        # Qwen3-VL budgets pixels over the whole clip (frames x height x width)
        video_processor = tf.Qwen3VLVideoProcessor(
            size={"shortest_edge": 4 * unit, "longest_edge": 256 * unit}, cap_pixels_per_frame=True, **video_kwargs
        )
    else:
        video_processor = tf.Qwen2VLVideoProcessor(
            size={"shortest_edge": 4 * unit, "longest_edge": 64 * unit}, cap_pixels_per_frame=True, **video_kwargs
        )

    if family == "qwen2_vl":
        config = tf.Qwen2VLConfig(
            text_config=_qwen_text_kwargs(tok, [2, 3, 3], bos_token_id=pad, eos_token_id=eos),
            vision_config=dict(
                depth=2,
                embed_dim=32,
                hidden_size=_HIDDEN,
                mlp_ratio=2,
                num_heads=2,
                patch_size=patch,
                spatial_merge_size=2,
                temporal_patch_size=2,
            ),
            **_qwen_ids(tok),
        )
        model_cls, processor_cls, template = (
            tf.Qwen2VLForConditionalGeneration,
            tf.Qwen2VLProcessor,
            _QWEN2_TEMPLATE,
        )
    elif family == "qwen2_5_vl":
        config = tf.Qwen2_5_VLConfig(
            text_config=_qwen_text_kwargs(tok, [2, 3, 3], bos_token_id=pad, eos_token_id=eos),
            vision_config=dict(
                depth=2,
                hidden_size=32,
                intermediate_size=64,
                num_heads=2,
                out_hidden_size=_HIDDEN,
                patch_size=patch,
                spatial_merge_size=2,
                temporal_patch_size=2,
                window_size=112,
                fullatt_block_indexes=[1],
                tokens_per_second=2,
            ),
            **_qwen_ids(tok),
        )
        model_cls, processor_cls, template = (
            tf.Qwen2_5_VLForConditionalGeneration,
            tf.Qwen2_5_VLProcessor,
            _QWEN2_TEMPLATE,
        )
    else:
        text = _qwen_text_kwargs(tok, [4, 2, 2], head_dim=_HIDDEN // 4, bos_token_id=pad, eos_token_id=eos)
        text["rope_parameters"].update(rope_theta=5000000.0, mrope_interleaved=True)
        config = tf.Qwen3VLConfig(
            text_config=text,
            vision_config=dict(
                depth=2,
                hidden_size=32,
                intermediate_size=64,
                num_heads=2,
                out_hidden_size=_HIDDEN,
                patch_size=patch,
                spatial_merge_size=2,
                temporal_patch_size=2,
                num_position_embeddings=256,
                deepstack_visual_indexes=[0],
            ),
            **_qwen_ids(tok),
        )
        model_cls, processor_cls, template = (
            tf.Qwen3VLForConditionalGeneration,
            tf.Qwen3VLProcessor,
            _QWEN3_TEMPLATE,
        )
    tok.chat_template = template
    processor = processor_cls(
        image_processor=image_processor, tokenizer=tok, video_processor=video_processor, chat_template=template
    )
    gen = dict(bos_token_id=pad, eos_token_id=[eos, pad], pad_token_id=pad)
    return model_cls, config, processor, gen


def _build_llava():
    import transformers as tf

    tok = _llama_tokenizer()
    crop, patch = 84, 14  # 6 x 6 = 36 visual tokens
    image_processor = tf.CLIPImageProcessor(
        size={"shortest_edge": crop},
        crop_size={"height": crop, "width": crop},
        do_center_crop=True,
        image_mean=tf.image_utils.OPENAI_CLIP_MEAN,
        image_std=tf.image_utils.OPENAI_CLIP_STD,
    )
    image_id = tok.convert_tokens_to_ids("<image>")
    config = tf.LlavaConfig(
        vision_config=tf.CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=crop,
            patch_size=patch,
        ),
        text_config=tf.LlamaConfig(
            vocab_size=_pad64(len(tok)),
            hidden_size=_HIDDEN,
            intermediate_size=2 * _HIDDEN,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=4096,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        ),
        image_token_index=image_id,
        image_seq_length=(crop // patch) ** 2,
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
        projector_hidden_act="gelu",
    )
    tok.chat_template = _LLAVA_TEMPLATE
    processor = tf.LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        patch_size=patch,
        vision_feature_select_strategy="default",
        chat_template=_LLAVA_TEMPLATE,
        image_token="<image>",
        num_additional_image_tokens=1,
    )
    gen = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return tf.LlavaForConditionalGeneration, config, processor, gen


def _build_internvl():
    import transformers as tf

    tok = _qwen_tokenizer("internvl")
    tile, patch = 112, 14  # (112 / 14)^2 = 64 patches -> pixel shuffle 0.5 -> 16 tokens per tile
    seq = int((tile // patch) ** 2 * 0.5**2)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    image_processor = tf.GotOcr2ImageProcessor(
        size={"height": tile, "width": tile},
        crop_to_patches=True,
        min_patches=1,
        max_patches=6,
        image_mean=mean,
        image_std=std,
    )
    video_processor = tf.InternVLVideoProcessor(size={"height": tile, "width": tile}, image_mean=mean, image_std=std)
    eos, pad = tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")
    config = tf.InternVLConfig(
        vision_config=tf.InternVLVisionConfig(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=[tile, tile],
            patch_size=[patch, patch],
            use_qk_norm=False,
            norm_type="layer_norm",
            use_absolute_position_embeddings=True,
        ),
        text_config=tf.Qwen2Config(
            vocab_size=_pad64(len(tok)),
            hidden_size=_HIDDEN,
            intermediate_size=2 * _HIDDEN,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            bos_token_id=pad,
            eos_token_id=eos,
            pad_token_id=pad,
        ),
        image_token_id=tok.context_image_token_id,
        image_seq_length=seq,
        downsample_ratio=0.5,
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        tie_word_embeddings=False,  # as InternVL3-8B; tied random embeddings just repeat the last input token
    )
    tok.chat_template = _INTERNVL_TEMPLATE
    processor = tf.InternVLProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        video_processor=video_processor,
        image_seq_length=seq,
        chat_template=_INTERNVL_TEMPLATE,
    )
    gen = dict(bos_token_id=pad, eos_token_id=[eos, pad], pad_token_id=pad)
    return tf.InternVLForConditionalGeneration, config, processor, gen


def _build(family: str, path: pathlib.Path) -> None:
    import torch
    import transformers as tf

    if family == "llava":
        model_cls, config, processor, gen = _build_llava()
    elif family == "internvl":
        model_cls, config, processor, gen = _build_internvl()
    else:
        model_cls, config, processor, gen = _build_qwen(family)
    config.architectures = [model_cls.__name__]
    setattr(config, UNTRAINED_KEY, True)  # records made with it say so (metadata["untrained"])
    rng_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(_SEED)
        model = model_cls(config).eval()
    finally:
        torch.random.set_rng_state(rng_state)
    model.generation_config = tf.GenerationConfig(do_sample=False, **gen)
    path.mkdir(parents=True, exist_ok=True)
    bars = tf.utils.logging.is_progress_bar_enabled()
    tf.utils.logging.disable_progress_bar()
    try:
        model.save_pretrained(path)
        processor.save_pretrained(path)
    finally:
        if bars:
            tf.utils.logging.enable_progress_bar()


def _cleanup() -> None:
    for d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def tiny_model(family: str, path: str | os.PathLike | None = None) -> pathlib.Path:
    """Build (offline, deterministically) a tiny random checkpoint of ``family`` and return its directory.

    ``family`` is one of :data:`FAMILIES`. With ``path`` the checkpoint is (re)built there; without, it is built once
    per process in a temporary directory (removed at exit) and that directory is returned on later calls.

    >>> tiny_model("gpt2")
    Traceback (most recent call last):
    ...
    ValueError: unknown family 'gpt2'; expected one of ('qwen2_vl', 'qwen2_5_vl', 'qwen3_vl', 'llava', 'internvl')
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    if path is not None:
        out = pathlib.Path(path)
        with _LOCK:
            _build(family, out)
        return out
    with _LOCK:
        cached = _CACHE.get(family)
        if cached is not None and (cached / "config.json").is_file():
            return cached
        if not _TEMP_DIRS:
            atexit.register(_cleanup)
        out = pathlib.Path(tempfile.mkdtemp(prefix=f"tam_tiny_{family}_"))
        _TEMP_DIRS.append(out)
        _build(family, out)
        _CACHE[family] = out
        return out
