"""Tiny offline checkpoints: real classes, real token formats, processors and generation on CPU."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest
import torch

from tam_widgets.testing import FAMILIES, tiny_model

skdata = pytest.importorskip("skimage.data")
transformers = pytest.importorskip("transformers")

QWEN = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")
CLASSES = {
    "qwen2_vl": ("Qwen2VLForConditionalGeneration", "Qwen2VLProcessor"),
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration", "Qwen2_5_VLProcessor"),
    "qwen3_vl": ("Qwen3VLForConditionalGeneration", "Qwen3VLProcessor"),
    "llava": ("LlavaForConditionalGeneration", "LlavaProcessor"),
    "internvl": ("InternVLForConditionalGeneration", "InternVLProcessor"),
}
QWEN_SPECIAL = [
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
SPECIAL = {
    "qwen2_vl": QWEN_SPECIAL,
    "qwen2_5_vl": QWEN_SPECIAL + ["<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|file_sep|>"],
    "qwen3_vl": QWEN_SPECIAL + ["<tool_call>", "<think>", "</think>", "<tool_response>"],
    "llava": ["<s>", "</s>", "<unk>", "<pad>", "<image>"],
    "internvl": QWEN_SPECIAL + ["<img>", "</img>", "<IMG_CONTEXT>", "<video>", "<quad>", "<ref>", "<box>", "</box>"],
}

IMG = {"type": "image"}
ONE = [{"role": "user", "content": [IMG, {"type": "text", "text": "What is this?"}]}]
TWO = [{"role": "user", "content": [IMG, IMG, {"type": "text", "text": "What are the differences?"}]}]
TURNS = ONE + [
    {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
    {"role": "user", "content": [{"type": "text", "text": "What colour is it?"}]},
]
VIDEO = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "What happens?"}]}]

SYS = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
PAD = "<|vision_start|><|image_pad|><|vision_end|>"
QWEN3_RENDERED = {
    "one": f"<|im_start|>user\n{PAD}What is this?<|im_end|>\n<|im_start|>assistant\n",
    "two": f"<|im_start|>user\n{PAD}{PAD}What are the differences?<|im_end|>\n<|im_start|>assistant\n",
    "turns": f"<|im_start|>user\n{PAD}What is this?<|im_end|>\n<|im_start|>assistant\nA cat.<|im_end|>\n"
    "<|im_start|>user\nWhat colour is it?<|im_end|>\n<|im_start|>assistant\n",
    "video": "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>What happens?<|im_end|>\n"
    "<|im_start|>assistant\n",
}
RENDERED = {
    "qwen2_vl": {k: SYS + v for k, v in QWEN3_RENDERED.items()},
    "qwen2_5_vl": {k: SYS + v for k, v in QWEN3_RENDERED.items()},
    "qwen3_vl": QWEN3_RENDERED,
    "llava": {
        "one": "USER: <image>\nWhat is this? ASSISTANT:",
        "two": "USER: <image>\n<image>\nWhat are the differences? ASSISTANT:",
        "turns": "USER: <image>\nWhat is this? ASSISTANT: A cat. USER: What colour is it? ASSISTANT:",
    },
    "internvl": {
        "one": "<|im_start|>user\n<IMG_CONTEXT>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n",
        "two": "<|im_start|>user\n<IMG_CONTEXT>\n<IMG_CONTEXT>\nWhat are the differences?<|im_end|>\n"
        "<|im_start|>assistant\n",
        "turns": "<|im_start|>user\n<IMG_CONTEXT>\nWhat is this?<|im_end|>\n<|im_start|>assistant\nA cat.<|im_end|>\n"
        "<|im_start|>user\nWhat colour is it?<|im_end|>\n<|im_start|>assistant\n",
        "video": "<|im_start|>user\n<video>\nWhat happens?<|im_end|>\n<|im_start|>assistant\n",
    },
}
CASES = {"one": ONE, "two": TWO, "turns": TURNS, "video": VIDEO}


@pytest.fixture(scope="module")
def photos():
    return {"one": [skdata.astronaut()], "two": [skdata.astronaut(), skdata.chelsea()], "turns": [skdata.chelsea()]}


@pytest.fixture
def no_network(monkeypatch):
    """Offline mode, and any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module", params=FAMILIES)
def tiny(request):
    """(family, path, model, processor) loaded once per family through the Auto classes, with no network."""
    family = request.param
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", lambda *a, **k: pytest.fail("network access attempted"))
        path = tiny_model(family)
        model = transformers.AutoModelForImageTextToText.from_pretrained(path)
        processor = transformers.AutoProcessor.from_pretrained(path)
    return family, path, model.eval(), processor


def test_unknown_family():
    with pytest.raises(ValueError, match="unknown family"):
        tiny_model("gpt2")


def test_cached_and_rebuilt_deterministically(tmp_path):
    for family in FAMILIES:
        cached = tiny_model(family)
        assert tiny_model(family) == cached
        again = tiny_model(family, tmp_path / family)
        assert again == tmp_path / family and again != cached
        for name in ("model.safetensors", "tokenizer.json", "config.json", "processor_config.json"):
            assert (again / name).read_bytes() == (cached / name).read_bytes(), (family, name)


def test_loads_offline_with_real_classes(tiny, no_network):
    family, path, model, processor = tiny
    model_cls, processor_cls = CLASSES[family]
    assert type(model).__name__ == model_cls
    assert type(processor).__name__ == processor_cls
    assert model.config.model_type == family
    # loading again with the network blocked
    assert transformers.AutoConfig.from_pretrained(path).model_type == family
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    assert len(tokenizer) == len(processor.tokenizer)
    assert 200 < len(tokenizer) <= 1000
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params < 500_000, n_params
    # marked untrained in config.json, so records made with it warn
    assert json.loads((path / "config.json").read_text())["tam_widgets_untrained"] is True
    assert model.config.tam_widgets_untrained is True


def test_special_tokens_and_config_ids(tiny):
    family, _, model, processor = tiny
    tok, cfg = processor.tokenizer, model.config
    ids = {}
    for t in SPECIAL[family]:
        assert tok.tokenize(t) == [t], t
        ids[t] = tok.convert_tokens_to_ids(t)
    assert len(set(ids.values())) == len(ids)
    text_cfg = cfg.get_text_config()
    assert text_cfg.vocab_size >= len(tok)
    gen = model.generation_config
    eos = gen.eos_token_id if isinstance(gen.eos_token_id, list) else [gen.eos_token_id]
    if family in QWEN or family == "internvl":
        assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>" and tok.bos_token is None
        assert ids["<|im_end|>"] in eos and gen.pad_token_id == ids["<|endoftext|>"]
    if family in QWEN:
        assert cfg.image_token_id == ids["<|image_pad|>"] == processor.image_token_id
        assert cfg.video_token_id == ids["<|video_pad|>"] == processor.video_token_id
        assert cfg.vision_start_token_id == ids["<|vision_start|>"]
        assert cfg.vision_end_token_id == ids["<|vision_end|>"]
        patch = 16 if family == "qwen3_vl" else 14
        assert processor.image_processor.patch_size == cfg.vision_config.patch_size == patch
        assert processor.image_processor.merge_size == cfg.vision_config.spatial_merge_size == 2
    elif family == "llava":
        assert cfg.image_token_index == ids["<image>"] == processor.image_token_id
        assert (text_cfg.bos_token_id, text_cfg.eos_token_id, text_cfg.pad_token_id) == (
            ids["<s>"],
            ids["</s>"],
            ids["<pad>"],
        )
        assert tok("hello")["input_ids"][0] == ids["<s>"]
        assert cfg.image_seq_length == (cfg.vision_config.image_size // cfg.vision_config.patch_size) ** 2
    else:
        assert cfg.image_token_id == ids["<IMG_CONTEXT>"] == processor.image_token_id
        assert (tok.start_image_token, tok.end_image_token, tok.context_image_token, tok.video_token) == (
            "<img>",
            "</img>",
            "<IMG_CONTEXT>",
            "<video>",
        )
        assert (tok.start_image_token_id, tok.end_image_token_id) == (ids["<img>"], ids["</img>"])
        tile = processor.image_processor.size["height"]
        patch = cfg.vision_config.patch_size[0]
        assert tile == cfg.vision_config.image_size[0]
        assert processor.image_seq_length == cfg.image_seq_length == (tile // patch) ** 2 * cfg.downsample_ratio**2


@pytest.mark.parametrize(
    "family, case", [(f, c) for f in FAMILIES for c in ("one", "two", "turns", "video") if c in RENDERED[f]]
)
def test_chat_template(family, case):
    processor = transformers.AutoProcessor.from_pretrained(tiny_model(family))
    expected = RENDERED[family][case]
    assert processor.apply_chat_template(CASES[case], add_generation_prompt=True, tokenize=False) == expected
    # without the generation prompt the conversation is rendered up to its last turn
    rendered = processor.apply_chat_template(CASES[case], tokenize=False)
    assert expected.startswith(rendered) and len(rendered) < len(expected)


def test_chat_template_extras():
    qwen = transformers.AutoProcessor.from_pretrained(tiny_model("qwen2_vl"))
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert qwen.apply_chat_template(msgs, tokenize=False) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    )
    assert qwen.apply_chat_template(TWO, tokenize=False, add_vision_id=True).count("Picture 2: <|vision_start|>") == 1
    qwen3 = transformers.AutoProcessor.from_pretrained(tiny_model("qwen3_vl"))
    msgs = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]}] + ONE
    assert qwen3.apply_chat_template(msgs, tokenize=False).startswith("<|im_start|>system\nBe brief.<|im_end|>\n")


def _visual_positions(ids: list[int], token_id: int) -> np.ndarray:
    return np.flatnonzero(np.asarray(ids) == token_id)


def _runs(positions: np.ndarray) -> list[np.ndarray]:
    """Consecutive runs of positions."""
    return np.split(positions, np.flatnonzero(np.diff(positions) != 1) + 1) if len(positions) else []


def _check_layout(family, processor, model, inputs, images):
    ids = inputs["input_ids"][0].tolist()
    cfg = model.config
    if family in QWEN:
        grid = inputs["image_grid_thw"]
        assert grid.shape == (len(images), 3) and (grid[:, 0] == 1).all()
        per_image = (grid.prod(-1) // 4).tolist()
        assert len(_visual_positions(ids, cfg.image_token_id)) == sum(per_image)
        assert all(16 <= n <= 150 for n in per_image), per_image
        assert "mm_token_type_ids" in inputs
    elif family == "llava":
        crop = processor.image_processor.crop_size["height"]
        assert inputs["pixel_values"].shape == (len(images), 3, crop, crop)
        assert len(_visual_positions(ids, cfg.image_token_index)) == len(images) * cfg.image_seq_length
    else:
        from transformers.models.got_ocr2.image_processing_got_ocr2 import get_optimal_tiled_canvas

        ip = processor.image_processor
        tile = ip.size["height"]
        tiles = []
        for image in images:
            cols, rows = get_optimal_tiled_canvas(image.shape[:2], (tile, tile), ip.min_patches, ip.max_patches)
            tiles.append(cols * rows + (cols * rows > 1))  # + thumbnail
        assert inputs["pixel_values"].shape == (sum(tiles), 3, tile, tile)
        assert len(_visual_positions(ids, cfg.image_token_id)) == sum(tiles) * cfg.image_seq_length
        starts = _visual_positions(ids, processor.start_image_token_id)
        ends = _visual_positions(ids, processor.end_image_token_id)
        assert len(starts) == len(ends) == len(images)
        assert ((ends - starts - 1) == np.array(tiles) * cfg.image_seq_length).all()


def _generate(model, inputs):
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    n = inputs["input_ids"].shape[1]
    assert out.shape[0] == 1 and n < out.shape[1] <= n + 8
    assert torch.equal(out[0, :n], inputs["input_ids"][0])
    return out


@pytest.mark.parametrize("case", ["one", "two", "turns"])
def test_processor_and_generate(tiny, photos, case):
    family, _, model, processor = tiny
    images = photos[case]
    text = processor.apply_chat_template(CASES[case], add_generation_prompt=True, tokenize=False)
    inputs = processor(images=images, text=text, return_tensors="pt")
    _check_layout(family, processor, model, inputs, images)
    _generate(model, inputs)


def test_internvl_tiles_for_photos():
    processor = transformers.AutoProcessor.from_pretrained(tiny_model("internvl"))
    for image, n_tiles in ((skdata.astronaut(), 5), (skdata.chelsea(), 7)):  # 2x2 + thumbnail, 3 cols x 2 rows + 1
        inputs = processor(images=[image], text="<IMG_CONTEXT>\nHi", return_tensors="pt")
        assert inputs["pixel_values"].shape[0] == n_tiles


@pytest.mark.parametrize("family", QWEN)
def test_qwen_video_generate(family):
    model = transformers.AutoModelForImageTextToText.from_pretrained(tiny_model(family)).eval()
    processor = transformers.AutoProcessor.from_pretrained(tiny_model(family))
    photo = skdata.astronaut()
    frames = [np.ascontiguousarray(photo[32 * i : 32 * i + 256, 32 * i : 32 * i + 320]) for i in range(4)]
    text = processor.apply_chat_template(VIDEO, add_generation_prompt=True, tokenize=False)
    inputs = processor(
        videos=[frames],
        text=text,
        return_tensors="pt",
        do_sample_frames=False,
        video_metadata={"fps": 2.0, "total_num_frames": 4, "frames_indices": [0, 1, 2, 3]},
    )
    t, h, w = inputs["video_grid_thw"][0].tolist()
    assert t == 2  # 4 frames / temporal patch 2
    ids = inputs["input_ids"][0].tolist()
    assert len(_visual_positions(ids, model.config.video_token_id)) == t * h * w // 4
    runs = _runs(_visual_positions(ids, model.config.video_token_id))
    cfg = model.config
    if family == "qwen3_vl":
        # One run of video tokens per temporal step, each wrapped in vision start/end and preceded by
        # its timestamp. Whether the template's own <|vision_start|> stays in front as well changed
        # between transformers releases (1 + t starts before 5.25, t after): both layouts are valid.
        assert [len(r) for r in runs] == [h * w // 4] * t
        for r in runs:
            assert ids[r[0] - 1] == cfg.vision_start_token_id and ids[r[-1] + 1] == cfg.vision_end_token_id
        assert len(_visual_positions(ids, cfg.vision_start_token_id)) in (t, 1 + t)
        stamps = [processor.decode(ids[(runs[k - 1][-1] + 2 if k else 0) : r[0] - 1]) for k, r in enumerate(runs)]
        assert stamps[0].endswith("<0.2 seconds>") and stamps[1] == "<1.2 seconds>"
    else:
        assert len(runs) == 1 and len(_visual_positions(ids, cfg.vision_start_token_id)) == 1
    if family == "qwen2_5_vl":
        assert inputs["second_per_grid_ts"].tolist() == [1.0]
    _generate(model, inputs)
