"""The Explanation record: lookup, overlays, the paper-style figure, and the lossless file format."""

from __future__ import annotations

import json
import math
import os
import time
import zipfile

import cv2
import numpy as np
import pytest

from tam_widgets.record import FORMAT, VERSION, Explanation, Token, VisualGrid

IMAGE_BOX = [10.4, 20.6, 70.4, 50.6]  # rounds to (10, 21, 70, 51): 60x30 pixels for a 3x4 grid


def _pictures() -> list[np.ndarray]:
    """Three small RGB pictures: photos from scikit-image when installed, else synthetic ones."""
    try:
        from skimage import data

        photos = [data.astronaut(), data.chelsea(), data.coffee()]
    except ImportError:
        rng = np.random.default_rng(1)
        photos = [rng.integers(0, 256, (120, 180, 3), dtype=np.uint8) for _ in range(3)]
    sizes = [(96, 64), (96, 64), (96, 64)]  # (width, height)
    return [cv2.resize(p, s, interpolation=cv2.INTER_AREA) for p, s in zip(photos, sizes)]


TEXTS = [
    ("<|im_start|>", "special"),
    ("Describe", "prompt"),
    (" the", "prompt"),
    (" scene", "prompt"),
    ("<|im_end|>", "special"),
    ("A", "answer"),
    (" cat", "answer"),
    (" costs", "answer"),
    (" $", "answer"),
    ("5", "answer"),
    (" <script>", "answer"),
    ("<|im_end|>", "special"),
]
EXPLAINED = [5, 6, 7, 8, 10]


def make_explanation(**overrides) -> Explanation:
    """12 tokens, 5 explained; an image grid (3, 4) in a crop and a video grid (2, 2, 3) over 2 frames."""
    rng = np.random.default_rng(0)
    tokens = [Token(text, 100 + i, role, 0, 3 + i + (24 if i >= 4 else 0)) for i, (text, role) in enumerate(TEXTS)]
    n_exp, n_vis = len(EXPLAINED), 12 + 12
    grids = [
        VisualGrid("image", "image 1", 0, (3, 4), [0], np.array([IMAGE_BOX], np.float32)),
        VisualGrid("video", "video 1", 12, (2, 2, 3), [1, 2], np.array([[0, 0, 96, 64]] * 2, np.float32)),
    ]
    rel = np.zeros((n_exp, len(tokens)), np.float16)
    for r, i in enumerate(EXPLAINED):
        rel[r, 1:i] = rng.random(i - 1)
    fields = dict(
        tokens=tokens,
        explained=np.array(EXPLAINED, np.int64),
        maps={
            "tam": rng.random((n_exp, n_vis)).astype(np.float16),
            "cam": rng.random((n_exp, n_vis)).astype(np.float16),
        },
        text_relevance=rel,
        grids=grids,
        images=_pictures(),
        candidate_ids=rng.integers(0, 1000, (n_exp, 3)).astype(np.int64),
        candidate_probs=np.sort(rng.random((n_exp, 3)).astype(np.float32))[:, ::-1].copy(),
        candidate_texts=[[" cat", " $dog$", "<b>"] for _ in range(n_exp)],
        words=np.array([[i, i + 1] for i in range(8)] + [[8, 10], [10, 11], [11, 12]], np.int64),
        metadata={
            "model_id": "test/tiny-vlm",
            "generation": {"max_new_tokens": 7, "do_sample": False},
            "prompts": ["Describe the scene"],
            "temperature": 0.7,
        },
    )
    fields.update(overrides)
    return Explanation(**fields)


@pytest.fixture
def ex() -> Explanation:
    return make_explanation()


# -- lookup --------------------------------------------------------------------------------------
def test_map_shapes_and_values(ex):
    maps = ex.map(6)
    assert [m.shape for m in maps] == [(3, 4), (2, 2, 3)]
    assert all(m.dtype == np.float32 for m in maps)
    row = ex.maps["tam"][1].astype(np.float32)
    np.testing.assert_array_equal(maps[0], row[:12].reshape(3, 4))
    np.testing.assert_array_equal(maps[1], row[12:].reshape(2, 2, 3))
    cam = ex.maps["cam"][1, 12:].astype(np.float32).reshape(2, 2, 3)
    np.testing.assert_array_equal(ex.map(ex.tokens[6], "cam")[1], cam)
    np.testing.assert_array_equal(ex.map(-2)[0], ex.maps["tam"][4, :12].astype(np.float32).reshape(3, 4))
    assert ex.token_index(ex.tokens[8]) == 8 and ex.token_index(np.int64(3)) == 3


def test_lookup_errors_say_what_exists(ex):
    with pytest.raises(ValueError, match=r"not explained.*explained tokens.*5 'A'.*10 ' <script>'"):
        ex.map(9)
    with pytest.raises(ValueError, match=r"unknown method 'nope'.*\['tam', 'cam'\]"):
        ex.map(6, "nope")
    with pytest.raises(IndexError, match="out of range for 12 tokens"):
        ex.map(12)
    with pytest.raises(ValueError, match="not a token of this explanation"):
        ex.map(Token(" dog", 1, "answer", 0, 99))
    with pytest.raises(TypeError):
        ex.map("cat")
    with pytest.raises(IndexError, match="grids are"):
        ex.overlay(6, grid=2)
    with pytest.raises(IndexError, match="2 frame"):
        ex.overlay(6, grid=1, frame=2)


def test_properties_and_repr(ex):
    assert ex.methods == ["tam", "cam"]
    assert [t.text for t in ex.explained_tokens] == ["A", " cat", " costs", " $", " <script>"]
    assert ex.answer == "A cat costs $5 <script>"
    r = repr(ex)
    assert "test/tiny-vlm" in r and "tokens=12" in r and "explained=5" in r
    assert "'image 1' image 3x4" in r and "'video 1' video 2x2x3" in r


# -- overlays ------------------------------------------------------------------------------------
def _one_hot(ex: Explanation, row: int, visual: int, value: float = 1.0) -> Explanation:
    maps = np.zeros_like(ex.maps["tam"])
    maps[row, visual] = value
    return make_explanation(maps={"tam": maps})


def _assert_hot_box(out: np.ndarray, grid_box: tuple, cell: tuple) -> None:
    """With a grey colormap at alpha 1, a one-hot map is bright (> 0.5) exactly over its cell: the
    bright pixels span the cell, fill its middle row and column, and the corners of the cell are
    the only dimmer ones (bilinear weights multiply)."""
    gx0, gy0, gx1, gy1 = grid_box
    x0, y0, x1, y1 = cell
    hot = out[gy0:gy1, gx0:gx1, 0] > 127
    ys, xs = np.nonzero(hot)
    assert (xs.min() + gx0, ys.min() + gy0, xs.max() + gx0 + 1, ys.max() + gy0 + 1) == cell
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    row, col = out[cy, gx0:gx1, 0] > 127, out[gy0:gy1, cx, 0] > 127
    np.testing.assert_array_equal(np.flatnonzero(row) + gx0, np.arange(x0, x1))
    np.testing.assert_array_equal(np.flatnonzero(col) + gy0, np.arange(y0, y1))
    assert out[cy, cx, 0] >= 200


def test_overlay_puts_a_single_token_on_its_pixel_box(ex):
    # Image grid (3, 4) in box (10, 21)-(70, 51): token (1, 2) covers x 40..55, y 31..41.
    one = _one_hot(ex, row=1, visual=1 * 4 + 2)
    out = one.overlay(6, cmap="gray", alpha=1.0)
    image = one.images[0]
    assert out.shape == image.shape and out.dtype == np.uint8
    _assert_hot_box(out, grid_box=(10, 21, 70, 51), cell=(40, 31, 55, 41))
    outside = np.ones(image.shape[:2], bool)
    outside[21:51, 10:70] = False
    np.testing.assert_array_equal(out[outside], image[outside])
    # Default look: blended with jet, still only inside the grid's box.
    soft = one.overlay(one.tokens[6])
    np.testing.assert_array_equal(soft[outside], image[outside])
    assert not np.array_equal(soft[31:41, 40:55], image[31:41, 40:55])


def test_overlay_video_frame(ex):
    # Video grid (2, 2, 3) over 96x64 pictures: frame 1, token (0, 2) covers x 64..96, y 0..32 of picture 2.
    one = _one_hot(ex, row=0, visual=12 + 6 + 0 * 3 + 2)
    out = one.overlay(5, grid=1, frame=1, cmap="gray", alpha=1.0)
    _assert_hot_box(out, grid_box=(0, 0, 96, 64), cell=(64, 0, 96, 32))
    assert (one.overlay(5, grid=1, frame=0, cmap="gray", alpha=1.0) == 0).all()  # frame 0 is cold


def test_overlay_scales_maps_outside_unit_range(ex):
    stored = make_explanation(maps={"tam": (ex.maps["tam"].astype(np.float32) * 4 - 1).astype(np.float16)})
    row = stored.maps["tam"][1].astype(np.float32)
    scaled = (row - row.min()) / (row.max() - row.min())
    from tam_widgets.render import overlay

    expected = overlay(stored.images[0], scaled[:12].reshape(3, 4), box=(10, 21, 70, 51))
    np.testing.assert_array_equal(stored.overlay(6), expected)
    unit = ex.maps["tam"][1].astype(np.float32)  # already in [0, 1]: shown as stored
    np.testing.assert_array_equal(ex.overlay(6), overlay(ex.images[0], unit[:12].reshape(3, 4), box=(10, 21, 70, 51)))


# -- figure --------------------------------------------------------------------------------------
def _image_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.images]


def test_figure_panels_and_png(ex, tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    before = plt.get_fignums()
    fig = ex.figure()
    assert len(_image_axes(fig)) == 5  # every explained answer token
    texts = [t.get_text() for t in fig.findobj(Text)]
    joined = " ".join(texts)
    assert "$" in joined and "<script>" in joined and "$dog$" in joined
    assert "<|im_end|>" not in joined  # specials hidden
    assert not any(t.get_usetex() for t in fig.findobj(Text))
    out = tmp_path / "fig.png"
    fig.savefig(out, dpi=60)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == before  # never registered with pyplot, so no window

    assert len(_image_axes(ex.figure(max_tokens=2))) == 2
    video = ex.figure(tokens=[6, ex.tokens[10]], grid=1, method="cam", ncols=1)
    assert len(_image_axes(video)) == 2
    video.savefig(tmp_path / "video.png", dpi=50)
    single = ex.figure(tokens=8, grid=1, frame=1)
    assert len(_image_axes(single)) == 1
    single.savefig(tmp_path / "single.svg")
    with pytest.raises(ValueError, match="not explained"):
        ex.figure(tokens=[9])


def test_figure_marks_target_and_greys_later_tokens(ex):
    from matplotlib.text import Text

    fig = ex.figure(tokens=[7])
    strip = [t for t in fig.findobj(Text) if t.get_text() in ("costs", "cat", "$5", "<script>")]
    by_text = {t.get_text(): t for t in strip}
    assert by_text["costs"].get_fontweight() == "bold"
    assert by_text["<script>"].get_color() == "0.6"  # later token
    assert by_text["cat"].get_color() != "0.6"


# -- file format ---------------------------------------------------------------------------------
def _arrays(ex: Explanation) -> dict[str, np.ndarray]:
    out = {
        "explained": ex.explained,
        "text_relevance": ex.text_relevance,
        "candidate_ids": ex.candidate_ids,
        "candidate_probs": ex.candidate_probs,
        "words": ex.words,
    }
    out.update({f"map {k}": v for k, v in ex.maps.items()})
    out.update({f"image {i}": v for i, v in enumerate(ex.images)})
    out.update({f"boxes {i}": g.boxes for i, g in enumerate(ex.grids)})
    return out


def test_save_load_round_trip_is_bit_exact(ex, tmp_path):
    path = ex.save(tmp_path / "run.tam")
    back = Explanation.load(path)
    a, b = _arrays(ex), _arrays(back)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert np.array_equal(a[k], b[k]), k
    assert back.maps["tam"].dtype == np.float16 and back.images[0].dtype == np.uint8
    assert back.tokens == ex.tokens
    assert back.metadata == ex.metadata
    assert back.candidate_texts == ex.candidate_texts
    assert back.methods == ex.methods
    for g, h in zip(ex.grids, back.grids):
        assert (g.kind, g.label, g.offset, g.grid, g.frames) == (h.kind, h.label, h.offset, h.grid, h.frames)
    assert repr(back) == repr(ex)
    np.testing.assert_array_equal(back.overlay(6, grid=1, frame=1), ex.overlay(6, grid=1, frame=1))
    with zipfile.ZipFile(path) as z:  # one zip, nothing pickled: every entry is a plain .npy
        assert all(n.endswith(".npy") for n in z.namelist())
    with np.load(path, allow_pickle=False) as z:
        header = json.loads(z["header"].tobytes())
    assert header["format"] == FORMAT and header["version"] == VERSION == 1
    assert [t["text"] for t in header["tokens"]] == [t for t, _ in TEXTS]


def test_save_overwrites_atomically_and_leaves_no_temp_files(ex, tmp_path):
    path = tmp_path / "run.tam"
    ex.save(path)
    other = make_explanation(metadata={"model_id": "second"})
    other.save(str(path))
    assert Explanation.load(path).metadata == {"model_id": "second"}
    assert os.listdir(tmp_path) == ["run.tam"]


def test_unserialisable_metadata_never_touches_the_file(ex, tmp_path):
    path = tmp_path / "run.tam"
    ex.save(path)
    original = path.read_bytes()
    ex.metadata["generation"]["temperature"] = np.float32(0.5)
    with pytest.raises(TypeError, match=r"metadata\['generation'\]\['temperature'\].*numpy"):
        ex.save(path)
    ex.metadata["generation"]["temperature"] = 0.5
    ex.metadata[3] = "x"
    with pytest.raises(TypeError, match="key 3"):
        ex.save(path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["run.tam"]


def test_failure_while_writing_keeps_the_old_file(ex, tmp_path, monkeypatch):
    path = tmp_path / "run.tam"
    ex.save(path)
    original = path.read_bytes()

    def disk_full(f, *args, **kwargs):
        f.write(b"PK\x03\x04 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", disk_full)
    with pytest.raises(OSError, match="No space left"):
        make_explanation(metadata={"model_id": "new"}).save(path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["run.tam"]


def test_load_missing_file(tmp_path):
    missing = tmp_path / "nope.tam"
    with pytest.raises(FileNotFoundError, match="nope.tam"):
        Explanation.load(missing)


def test_load_truncated_or_foreign_files(ex, tmp_path):
    path = ex.save(tmp_path / "run.tam")
    cut = tmp_path / "cut.tam"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or not a tam-widgets explanation"):
        Explanation.load(cut)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="truncated or not a tam-widgets explanation"):
        Explanation.load(text)
    npy = tmp_path / "one.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match="not a tam-widgets explanation"):
        Explanation.load(npy)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a tam-widgets explanation"):
        Explanation.load(foreign)
    other = tmp_path / "other.npz"
    np.savez(other, header=np.frombuffer(json.dumps({"format": "something-else", "version": 1}).encode(), np.uint8))
    with pytest.raises(ValueError, match="not a tam-widgets explanation"):
        Explanation.load(other)
    garbage = tmp_path / "garbage.npz"
    np.savez(garbage, header=np.arange(5, dtype=np.float64))
    with pytest.raises(ValueError, match="not a tam-widgets explanation"):
        Explanation.load(garbage)


def _rewrite(src, dst, header_change=None, **arrays):
    """Copy the file's entries with some replaced (``None`` deletes) and the header edited."""
    with np.load(src, allow_pickle=False) as z:
        entries = {k: z[k] for k in z.files}
    header = json.loads(entries["header"].tobytes())
    if header_change:
        header_change(header)
    entries["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    for k, v in arrays.items():
        if v is None:
            entries.pop(k)
        else:
            entries[k] = v
    with open(dst, "wb") as f:  # a file object, so numpy does not append ".npz"
        np.savez_compressed(f, **entries)
    return dst


def test_load_newer_version(ex, tmp_path):
    path = ex.save(tmp_path / "run.tam")
    newer = _rewrite(path, tmp_path / "newer.tam", lambda h: h.update(version=VERSION + 1))
    with pytest.raises(ValueError, match="upgrade tam-widgets"):
        Explanation.load(newer)


@pytest.mark.parametrize(
    "header_change, arrays",
    [
        (None, {"maps_0": np.zeros((5, 23), np.float16)}),  # one visual token short
        (None, {"text_relevance": np.zeros((4, 12), np.float16)}),
        (None, {"image_1": None}),  # a picture is missing
        (None, {"boxes_1": np.zeros((3, 4), np.float32)}),  # video has 2 frames
        (None, {"explained": np.array([5, 6, 7, 8, 40])}),
        (lambda h: h.pop("tokens"), {}),
        (lambda h: h["tokens"].pop(), {}),
        (lambda h: h["grids"][0].update(grid=[3, 5]), {}),
        (lambda h: h.update(methods=["tam", "cam", "extra"]), {}),
        (lambda h: h["tokens"][0].update(role="narrator"), {}),
        (lambda h: h.update(version="1"), {}),
    ],
)
def test_load_corrupt_files(ex, tmp_path, header_change, arrays):
    path = ex.save(tmp_path / "run.tam")
    bad = _rewrite(path, tmp_path / "bad.tam", header_change, **arrays)
    with pytest.raises(ValueError, match="corrupt"):
        Explanation.load(bad)


def test_load_flipped_bytes_is_corrupt(ex, tmp_path):
    path = ex.save(tmp_path / "run.tam")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("image_0.npy")
    at = info.header_offset + 30 + len(info.filename) + 200  # inside the compressed picture
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):
        Explanation.load(path)


# -- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(maps={"tam": np.zeros((5, 20), np.float16)}), r"\[5, 24\].*\(5, 20\)"),
        (dict(text_relevance=np.zeros((5, 11), np.float16)), r"\[5, 12\].*\(5, 11\)"),
        (dict(candidate_probs=np.zeros((5, 2), np.float32)), r"\(5, 3\).*\(5, 2\)"),
        (dict(candidate_ids=np.zeros((4, 3), np.int64)), r"n_explained = 5.*\(4, 3\)"),
        (dict(candidate_texts=[["a"]] * 5), "5 lists of 3 strings"),
        (dict(explained=np.array([5, 6, 7, 8, 12])), r"\[12\] are out of range for 12 tokens"),
        (dict(explained=np.array([5, 6, 7, 8, 8])), "unique"),
        (dict(words=np.array([[0, 3], [2, 12]])), "non-overlapping"),
        (dict(images=[np.zeros((64, 96), np.uint8)] * 3), r"RGB uint8 \[H, W, 3\].*\(64, 96\)"),
    ],
)
def test_validation_names_the_shapes(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_explanation(**overrides)


def test_validation_of_grids_and_roles():
    grids = make_explanation().grids
    grids[1].boxes = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"\[2, 4\].*\(3, 4\)"):
        make_explanation(grids=grids)
    grids = make_explanation().grids
    grids[0].boxes = np.array([[0, 0, 200, 50]], np.float32)
    with pytest.raises(ValueError, match="does not fit image 0"):
        make_explanation(grids=grids)
    grids = make_explanation().grids
    grids[1].frames = [1, 7]
    with pytest.raises(ValueError, match="points to image 7"):
        make_explanation(grids=grids)
    tokens = make_explanation().tokens
    tokens[3] = Token(" scene", 3, "user", 0, 6)
    with pytest.raises(ValueError, match="role 'user'"):
        make_explanation(tokens=tokens)


# -- hostile files: every corrupt input is one RecordError naming the file ----------------------
def _entries(path) -> dict[str, bytes]:
    """The raw ``.npy`` bytes of every entry of a saved record."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _header(entries: dict[str, bytes]) -> dict:
    import io

    return json.loads(np.lib.format.read_array(io.BytesIO(entries["header.npy"])).tobytes())


def _zip(dst, entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(dst, "w", compression) as z:
        for name, blob in entries.items():
            z.writestr(name, blob)
    return dst


def _assert_record_error(path, match: str | None = None):
    from tam_widgets import RecordError

    with pytest.raises(RecordError, match=match) as info:
        Explanation.load(path)
    assert str(path) in str(info.value), info.value
    assert isinstance(info.value, ValueError)
    return info.value


@pytest.fixture
def saved(ex, tmp_path):
    return ex.save(tmp_path / "good.tam")


def test_hostile_truncated_and_random_bytes(saved, tmp_path):
    data = saved.read_bytes()
    for k, cut in enumerate([0, 3, 10, 100, len(data) // 3, len(data) - 30, len(data) - 1]):
        p = tmp_path / f"cut{k}.tam"
        p.write_bytes(data[:cut])
        _assert_record_error(p)
    rng = np.random.default_rng(7)
    for k, prefix in enumerate([b"", b"PK\x03\x04", data[:200]]):
        p = tmp_path / f"random{k}.tam"
        p.write_bytes(prefix + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
        _assert_record_error(p)
    _assert_record_error(tmp_path, "directory")


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda e: e.pop("explained.npy"), r"missing entries \['explained.npy'\]"),
        (lambda e: e.pop("image_2.npy"), r"missing entries \['image_2.npy'\]"),
        (lambda e: e.update({"extra.npy": _npy(np.zeros(3))}), r"unknown entries \['extra.npy'\]"),
        (lambda e: e.update({"maps_2.npy": _npy(np.zeros((5, 24), np.float16))}), r"unknown entries \['maps_2"),
        (lambda e: e.update({"notes.txt": b"hello"}), r"unknown entries \['notes.txt'\]"),
        (lambda e: e.update({"explained.npy": b"\x93NUMPY garbage"}), "explained.npy"),
        (lambda e: e.update({"explained.npy": b""}), "explained.npy"),
        (lambda e: e.update({"maps_0.npy": _npy(np.zeros((5, 24), np.int32))}), r"'maps_0.npy' has dtype int32"),
        (lambda e: e.update({"explained.npy": _npy(np.arange(5.0))}), r"'explained.npy' has dtype float64"),
        (lambda e: e.update({"image_0.npy": _npy(np.zeros((64, 96, 3), np.uint16))}), "expected uint8"),
        (lambda e: e.update({"image_0.npy": _npy(np.zeros((64, 96, 4), np.uint8))}), r"shape \(64, 96, 4\)"),
        (lambda e: e.update({"maps_1.npy": _npy(np.zeros((24, 5), np.float16))}), r"calls for \(5, 24\)"),
        (lambda e: e.update({"words.npy": _npy(np.zeros((13, 2), np.int64))}), r"calls for \('<= 12', 2\)"),
        (lambda e: e.update({"boxes_1.npy": _npy(np.zeros((3, 4), np.float32))}), r"calls for \(2, 4\)"),
        (lambda e: e.update({"text_relevance.npy": _npy(np.zeros((5, 12), "S2"))}), "dtype"),
        (lambda e: e.update({"explained.npy": _npy(np.zeros(5, [("a", "<i8")]))}), "objects or records"),
        (lambda e: e.update({"header.npy": _npy(np.zeros(4, np.float32))}), "not a tam-widgets explanation"),
        (lambda e: e.update({"header.npy": _npy(np.frombuffer(b"\xff\xfe{", np.uint8))}), "not JSON"),
        (lambda e: e.update({"header.npy": _npy(np.frombuffer(b'{"format": NaN}', np.uint8))}), "not JSON"),
    ],
)
def test_hostile_entries(saved, tmp_path, change, match):
    entries = _entries(saved)
    change(entries)
    _assert_record_error(_zip(tmp_path / "bad.tam", entries), match)


def _with_header(saved, dst, change):
    entries = _entries(saved)
    header = _header(entries)
    change(header)
    entries["header.npy"] = _npy(np.frombuffer(json.dumps(header).encode(), np.uint8))
    return _zip(dst, entries)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda h: h.update(tokens="abc"), "'tokens' must be a list"),
        (lambda h: h["tokens"][3].update(id="103"), r"tokens\[3\].id must be an int"),
        (lambda h: h["tokens"][0].update(text=None), r"tokens\[0\].text must be a str"),
        (lambda h: h["tokens"][1].update(turn=1.5), r"tokens\[1\].turn must be an int"),
        (lambda h: h["tokens"][2].update(raw_bytes="zz"), r"tokens\[2\].raw_bytes must be a hex string"),
        (lambda h: h["tokens"][2].update(raw_bytes=[1]), r"tokens\[2\].raw_bytes"),
        (lambda h: h["tokens"].__setitem__(4, ["x"]), r"tokens\[4\] must be an object"),
        (lambda h: h["grids"][0].update(grid=[3, "4"]), r"grids\[0\].grid must be 2 or 3 positive ints"),
        (lambda h: h["grids"][0].update(grid=[3, 0]), r"grids\[0\].grid"),
        (lambda h: h["grids"][1].update(frames=[1.0, 2]), r"grids\[1\].frames"),
        (lambda h: h["grids"][1].update(offset=-12), r"grids\[1\].offset"),
        (lambda h: h["grids"][1].update(label=7), r"grids\[1\].label"),
        (lambda h: h.update(grids={"a": 1}), "'grids' must be a list"),
        (lambda h: h.update(methods={"tam": 1}), "'methods' must be a list"),
        (lambda h: h.update(methods=["tam", "tam"]), "twice"),
        (lambda h: h.update(n_images=-1), "'n_images'"),
        (lambda h: h.update(n_images=True), "'n_images'"),
        (lambda h: h.update(metadata=[1]), "'metadata' must be an object"),
        (lambda h: h.update(candidate_texts=[[1, 2, 3]] * 5), "'candidate_texts' must hold str"),
        (lambda h: h.update(candidate_texts="abc"), "'candidate_texts' must be lists"),
        (lambda h: h.pop("grids"), "'grids' is missing"),
        (lambda h: h.update(version=None), "bad format version"),
        (lambda h: h.update(format=None), "not a tam-widgets explanation"),
        (lambda h: h["grids"][1].update(frames=[1, 9]), "points to image 9"),
        (lambda h: h["tokens"][0].update(role="narrator"), "role 'narrator'"),
        (lambda h: h["candidate_texts"].pop(), r"missing entries|calls for"),
    ],
)
def test_hostile_header_fields(saved, tmp_path, change, match):
    _assert_record_error(_with_header(saved, tmp_path / "bad.tam", change), match)


def test_hostile_deeply_nested_header(saved, tmp_path):
    entries = _entries(saved)
    header = _header(entries)
    text = json.dumps(header)
    for k, depth in enumerate([100, 200_000]):  # too deep for the reader, and for Python's JSON parser
        deep = text.replace('"metadata": {', '"metadata": {"x": ' + "[" * depth + "]" * depth + ", ", 1)
        entries["header.npy"] = _npy(np.frombuffer(deep.encode(), np.uint8))
        _assert_record_error(_zip(tmp_path / f"deep{k}.tam", entries), "nests")


def test_deep_metadata_is_refused_at_save(ex, tmp_path):
    nested: list = []
    for _ in range(100):
        nested = [nested]
    ex.metadata["deep"] = nested
    with pytest.raises(TypeError, match="deeper than"):
        ex.save(tmp_path / "deep.tam")
    assert os.listdir(tmp_path) == []


def test_hostile_pickles_are_never_unpickled(saved, tmp_path):
    marker = tmp_path / "pwned"
    entries = _entries(saved)
    evil = np.array([_Evil(str(marker))], dtype=object)
    for k, name in enumerate(["maps_0.npy", "header.npy", "image_0.npy"]):
        bad = dict(entries, **{name: _npy(evil, allow_pickle=True)})
        _assert_record_error(_zip(tmp_path / f"pickle{k}.tam", bad), "objects or records")
    assert not marker.exists()


class _Evil:
    """Unpickling it would create a file: the proof that something was unpickled."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_hostile_zip_tricks(saved, tmp_path):
    import warnings

    entries = _entries(saved)
    _assert_record_error(_zip(tmp_path / "bz2.tam", entries, zipfile.ZIP_BZIP2), "compression method")
    _assert_record_error(_zip(tmp_path / "lzma.tam", entries, zipfile.ZIP_LZMA), "compression method")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(tmp_path / "twice.tam", "w") as z:
            for name, blob in entries.items():
                z.writestr(name, blob)
            z.writestr("explained.npy", entries["explained.npy"])
    _assert_record_error(tmp_path / "twice.tam", "twice")
    # An npy header that declares more data than the entry holds.
    lying = dict(entries)
    blob = _npy(np.zeros(5, np.int64))
    lying["explained.npy"] = blob[:-8]
    _assert_record_error(_zip(tmp_path / "short.tam", lying), "declares")
    import io

    huge = io.BytesIO()  # an image header declaring 30 GB, followed by 10 bytes
    np.lib.format.write_array_header_1_0(huge, {"descr": "|u1", "fortran_order": False, "shape": (100000, 100000, 3)})
    lying["explained.npy"] = entries["explained.npy"]
    lying["image_0.npy"] = huge.getvalue() + bytes(10)
    _assert_record_error(_zip(tmp_path / "huge.tam", lying), r"'image_0.npy' declares 30000000\d+ bytes")
    # The encrypted flag set on one entry (in the local header and the directory).
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as z:
        info = z.getinfo("words.npy")
    data[info.header_offset + 6] |= 1
    for at in range(len(data) - 46):
        if data[at : at + 4] == b"PK\x01\x02" and data[at + 46 : at + 46 + 9] == b"words.npy":
            data[at + 8] |= 1
    enc = tmp_path / "encrypted.tam"
    enc.write_bytes(bytes(data))
    _assert_record_error(enc, "encrypted")


def test_hostile_zip_bomb_is_refused_before_decompressing(saved, tmp_path, monkeypatch):
    import time

    entries = _entries(saved)
    bomb = tmp_path / "bomb.tam"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in entries.items():
            if name != "image_0.npy":
                z.writestr(name, blob)
        with z.open("image_0.npy", "w", force_zip64=True) as f:  # 512 MiB of zeros
            shape = (16384, 10923, 3)
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": shape})
            chunk, left = bytes(1 << 22), math.prod(shape)
            while left > 0:
                f.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
    assert bomb.stat().st_size < 1 << 20

    def no_decompressing(*args, **kwargs):
        raise AssertionError("decompressed an entry of a zip bomb")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_decompressing)
    start = time.perf_counter()
    _assert_record_error(bomb, "zip bomb")
    assert time.perf_counter() - start < 1.0


def test_per_entry_bomb_guard(saved, tmp_path, monkeypatch):
    from tam_widgets import record

    entries = _entries(saved)
    entries["image_0.npy"] = _npy(np.zeros((1024, 1024, 3), np.uint8))  # 3 MiB of zeros in ~3 KiB
    entries["image_1.npy"] = _npy(np.random.default_rng(0).integers(0, 256, (700, 700, 3), dtype=np.uint8))
    path = _zip(tmp_path / "one.tam", entries)
    monkeypatch.setattr(record, "BOMB_FLOOR", 1 << 20)
    _assert_record_error(path, r"'image_0.npy' would expand")


def test_older_and_uncompressed_files_still_load(ex, tmp_path):
    """Files without raw_bytes (all files before it existed) and np.savez (stored, not deflated) files load."""
    entries = _entries(ex.save(tmp_path / "a.tam"))
    assert all("raw_bytes" not in t for t in _header(entries)["tokens"])
    back = Explanation.load(_zip(tmp_path / "stored.tam", entries, zipfile.ZIP_STORED))
    assert back.tokens == ex.tokens and all(t.raw_bytes is None for t in back.tokens)
    np.testing.assert_array_equal(back.maps["cam"], ex.maps["cam"])
    back.maps["tam"][0, 0] = 1  # loaded arrays are ordinary writable arrays


def test_raw_bytes_round_trip(tmp_path):
    tokens = make_explanation().tokens
    tokens[8] = Token("", 108, "answer", 0, 35, raw_bytes=b"\xe2\x80")
    tokens[9] = Token("\u2019", 109, "answer", 0, 36, raw_bytes=b"\x99")
    ex = make_explanation(tokens=tokens)
    path = ex.save(tmp_path / "bytes.tam")
    header = _header(_entries(path))
    assert header["tokens"][8]["raw_bytes"] == "e280" and "raw_bytes" not in header["tokens"][7]
    back = Explanation.load(path)
    assert back.tokens == ex.tokens
    assert back.tokens[8].raw_bytes == b"\xe2\x80" and back.tokens[8].label == "<0xE2><0x80>"
    with pytest.raises(TypeError, match="raw_bytes"):
        make_explanation(tokens=[*tokens[:8], Token("", 1, "answer", 0, 35, raw_bytes="e2"), *tokens[9:]])


# -- stale temporary files of killed saves ---------------------------------------------------------
def test_killed_save_leaves_a_temp_file_that_the_next_save_removes(ex, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "run.tam"
    ex.save(path)
    code = (
        "import sys, time\n"
        "from tam_widgets.io import atomic_write\n"
        "def stall(f):\n"
        "    f.write(b'PK partial'); f.flush(); time.sleep(60)\n"
        "atomic_write(sys.argv[1], stall)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=root)
    try:
        deadline = time.monotonic() + 60
        while len(os.listdir(tmp_path)) < 2:
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.05)
        (tmp,) = [n for n in os.listdir(tmp_path) if n != "run.tam"]
        assert tmp.startswith(".run.tam.") and tmp.endswith(".tmp")
        make_explanation(metadata={"model_id": "while it writes"}).save(path)
        assert tmp in os.listdir(tmp_path)  # a live save keeps its file
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        child.kill()
        child.wait(30)
    assert sorted(os.listdir(tmp_path)) == sorted(["run.tam", tmp])
    make_explanation(metadata={"model_id": "after the kill"}).save(path)
    assert os.listdir(tmp_path) == ["run.tam"]
    assert Explanation.load(path).metadata == {"model_id": "after the kill"}


def test_stale_temp_cleanup_touches_only_its_own_old_files(ex, tmp_path):
    from tam_widgets import io as tw_io

    path = tmp_path / "run.tam"
    live = tmp_path / f".run.tam.{tw_io._HOST}.{os.getpid()}.{'a' * 12}.tmp"  # a save in progress here
    other_host = tmp_path / f".run.tam.{'0' * 8}.{1}.{'b' * 12}.tmp"  # pid 1 elsewhere: age decides
    old_style = tmp_path / f".run.tam.{'c' * 12}.tmp"  # named before pids were in the name
    other_target = tmp_path / f".other.tam.{tw_io._HOST}.999999999.{'d' * 12}.tmp"
    user_file = tmp_path / ".run.tam.notes.tmp"
    for p in (live, other_host, old_style, other_target, user_file):
        p.write_bytes(b"x")
    ex.save(path)
    assert {p.name for p in tmp_path.iterdir()} == {
        "run.tam", live.name, other_host.name, old_style.name, other_target.name, user_file.name
    }
    old = time.time() - tw_io.STALE_AFTER - 60
    for p in (live, other_host, old_style, other_target, user_file):
        os.utime(p, (old, old))
    ex.save(path)
    assert {p.name for p in tmp_path.iterdir()} == {"run.tam", other_target.name, user_file.name}


# -- what the figure says it shows ----------------------------------------------------------------
def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_figure_title_says_what_is_shown(ex):
    joined = " ".join(_texts(ex.figure(max_tokens=2)))
    assert "TAM maps on image 1 (grid=0 of 2 grids)" in joined and "test/tiny-vlm" in joined
    assert "tokens 5-6: the first 2 of 5 explained answer tokens (turn 1 of 1)" in joined
    assert "pick others with tokens=, turn=, max_tokens=" in joined and "other pictures: grid=1 'video 1'" in joined
    joined = " ".join(_texts(ex.figure(tokens=[8, 6], grid="video 1", frame=1, method="cam")))
    assert "CAM (baseline) maps on video 1 (grid=1 of 2 grids), frame 2 of 2" in joined
    assert "tokens 8, 6 as chosen" in joined
    both = ex.figure(tokens=6, grid=[0, "video 1"])
    assert "image 1 (grid=0 of 2 grids) + video 1 (grid=1 of 2 grids), frames 1-2 side by side" in " ".join(
        _texts(both)
    )
    (panel,) = _image_axes(both)
    assert panel.images[0].get_array().shape[1] > 3 * 96  # three pictures side by side


def test_figure_has_a_colour_legend_with_units(ex):
    from tam_widgets.record import legend_text

    for method in ("tam", "cam"):
        fig = ex.figure(tokens=[6], method=method)
        bars = [ax for ax in fig.axes if ax.collections and not ax.images]
        assert len(bars) == 1  # the colour bar
        ticks = [t.get_text() for t in bars[0].get_xticklabels()]
        assert ticks[0] in ("0.00", "0.0", "0") and ticks[-1] in ("1.00", "1.0", "1")
        legend = " ".join(_texts(fig))
        assert legend_text(method)[:40] in legend.replace("\n", " ")
    assert "scaled" not in " ".join(_texts(ex.figure(tokens=[6])))
    stretched = make_explanation(maps={"tam": (ex.maps["tam"].astype(np.float32) * 4 - 1).astype(np.float16)})
    joined = " ".join(_texts(stretched.figure(tokens=[6])))
    assert "scaled from [" in joined and "min-max scaled per token" in joined


def test_tam_and_cam_legends_say_their_scales_differ():
    from tam_widgets.record import legend_text

    assert "image and text" in legend_text("tam") and "not comparable with TAM" in legend_text("cam")


@pytest.mark.parametrize(
    "metadata, warning",
    [({"untrained": True}, "untrained model"), ({"synthetic": True}, "synthetic scene")],
)
def test_figure_warns_about_untrained_models_and_synthetic_data(metadata, warning):
    ex = make_explanation(metadata={"model_id": "tiny", **metadata})
    assert any(t.startswith(f"⚠ {warning}") for t in _texts(ex.figure(max_tokens=1)))
    assert not any("⚠" in t for t in _texts(make_explanation().figure(max_tokens=1)))


def test_figure_choices_by_turn_and_errors(ex):
    tokens = [Token(t.text, t.id, t.role, 1 if i >= 8 else 0, t.position) for i, t in enumerate(ex.tokens)]
    two = make_explanation(tokens=tokens)
    assert [ax.get_title().split("(token ")[1] for ax in _image_axes(two.figure(turn=-1))] == ["8)", "10)"]
    assert len(_image_axes(two.figure(turn=0))) == 3
    assert "turns 1, 2" in " ".join(_texts(two.figure()))
    with pytest.raises(ValueError, match=r"tokens=\[\] selects no token.*explained tokens.*5 'A'"):
        ex.figure(tokens=[])
    with pytest.raises(ValueError, match="not both"):
        ex.figure(tokens=[6], turn=0)
    with pytest.raises(IndexError, match="turns"):
        two.figure(turn=2)
    with pytest.raises(ValueError, match="max_tokens"):
        ex.figure(max_tokens=0)
    with pytest.raises(ValueError, match="no grid is labelled 'image 9'.*'video 1'"):
        ex.figure(grid="image 9")
    with pytest.raises(ValueError, match=r"grid=\[\] selects no picture"):
        ex.figure(grid=[])
    with pytest.raises(ValueError, match="unknown colormap"):
        ex.figure(cmap="nope")


def test_figure_candidates_as_percentages_and_token_labels():
    tokens = make_explanation().tokens
    tokens[6] = Token("", 106, "answer", 0, 34, raw_bytes=b"\xe2\x80")
    ex = make_explanation(
        tokens=tokens,
        candidate_probs=np.tile(np.array([[0.4123, 0.00123, 1e-9]], np.float32), (5, 1)),
        candidate_ids=np.array([[1, 2, 3]] * 4 + [[-1, -1, -1]]),
    )
    joined = " ".join(_texts(ex.figure()))
    assert "' cat' 41.2%" in joined and "' $dog$' 0.123%" in joined and "'<b>' <0.001%" in joined
    assert "0.41" not in joined and "0.00 " not in joined  # not the old two decimals
    assert "top-k: none (not a generated token)" in joined
    fig = ex.figure(tokens=[6])
    assert [ax.get_title() for ax in _image_axes(fig)] == ["<0xE2><0x80>  (token 6)"]
    assert "<0xE2><0x80>" in _texts(fig)  # the boxed token in the text strip shows its bytes too


def test_overlay_refuses_bad_alpha_frame_and_grid(ex):
    for alpha in (float("nan"), 1.01, -1):
        with pytest.raises(ValueError, match="alpha"):
            ex.overlay(6, alpha=alpha)
    with pytest.raises(TypeError, match="frame must be an int"):
        ex.overlay(6, grid=1, frame=0.5)
    with pytest.raises(TypeError, match="grid must be an int index or a label"):
        ex.overlay(6, grid=1.0)
    np.testing.assert_array_equal(ex.overlay(6, grid="video 1", frame=-1), ex.overlay(6, grid=1, frame=1))


def test_save_pngs_have_a_legend_and_provenance(tmp_path):
    from PIL import Image

    from tam_widgets.render import WARNING_RGB, colorize

    ex = make_explanation(metadata={"model_id": "tiny", "untrained": True})
    written = ex.save_pngs(tmp_path / "with")
    assert len(written) == 5 * 2 and written[1].name == "000_A_video_1.png"
    png = np.asarray(Image.open(written[2]))  # token 6 on image 1
    h, w = ex.images[0].shape[:2]
    assert png.shape[0] > h + 60 and png.shape[1] >= 420
    left = (png.shape[1] - w) // 2
    np.testing.assert_array_equal(png[:h, left : left + w], ex.overlay(6))
    foot = png[h:].reshape(-1, 3).astype(int)
    ramp = colorize(np.linspace(0, 1, 9)[None], "jet")[0].astype(int)
    for colour in ramp:  # the colour bar: every colour of the scale, 0 to 1
        assert (np.abs(foot - colour).sum(1) < 30).any(), colour
    assert (np.abs(foot - np.array(WARNING_RGB)).sum(1) < 30).sum() > 50  # the red warning
    plain = np.asarray(Image.open(make_explanation().save_pngs(tmp_path / "trained")[2]))
    assert not (np.abs(plain[h:].reshape(-1, 3).astype(int) - np.array(WARNING_RGB)).sum(1) < 30).any()
    bare = ex.save_pngs(tmp_path / "bare", legend=False)
    np.testing.assert_array_equal(np.asarray(Image.open(bare[2])), ex.overlay(6))


def test_save_pngs_names_byte_fragments_by_label(tmp_path):
    tokens = make_explanation().tokens
    tokens[6] = Token("\ufffd", 106, "answer", 0, 34, raw_bytes=b"\xe2\x80")
    written = make_explanation(tokens=tokens).save_pngs(tmp_path, method="cam")
    assert written[2].name == "001_0xE2_0x80_image_1.png"
    with pytest.raises(ValueError, match="unknown method"):
        make_explanation().save_pngs(tmp_path, method="nope")


def test_control_characters_show_as_escapes_in_figures_and_labels():
    """A token holding a control character is drawn as its escape: no missing-glyph warning, nothing invisible."""
    import dataclasses
    import warnings

    from tam_widgets.testing.records import small_record

    exp = small_record()
    i = int(exp.explained[0])
    exp.tokens[i] = dataclasses.replace(exp.tokens[i], text=" a\x11b\x7f")
    assert exp.tokens[i].label == " a\\x11b\\x7f"
    assert Token("x\ny\tz", 1, "answer", 0, 0).label == "x\ny\tz"  # layout characters stay
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exp.figure(tokens=[i]).canvas.draw()
