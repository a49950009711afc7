"""The .tam file format: lossless round trips, atomic saves, and refusing every bad file."""

from __future__ import annotations

import json
import math
import os
import time
import zipfile

import numpy as np
import pytest

from tam_widgets.record import FORMAT, VERSION, Explanation, RecordError, Token

from .conftest import TEXTS, make_explanation


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
        assert g.turn == h.turn
    assert repr(back) == repr(ex)
    np.testing.assert_array_equal(back.overlay(6, grid=1, frame=1), ex.overlay(6, grid=1, frame=1))
    with zipfile.ZipFile(path) as z:  # one zip, nothing pickled: every entry is a plain .npy
        assert all(n.endswith(".npy") for n in z.namelist())
    with np.load(path, allow_pickle=False) as z:
        header = json.loads(z["header"].tobytes())
    assert header["format"] == FORMAT and header["version"] == VERSION == 2
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
    from tam_widgets.record import tamfile

    entries = _entries(saved)
    entries["image_0.npy"] = _npy(np.zeros((1024, 1024, 3), np.uint8))  # 3 MiB of zeros in ~3 KiB
    entries["image_1.npy"] = _npy(np.random.default_rng(0).integers(0, 256, (700, 700, 3), dtype=np.uint8))
    path = _zip(tmp_path / "one.tam", entries)
    monkeypatch.setattr(tamfile, "BOMB_FLOOR", 1 << 20)
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


def test_grid_turns_round_trip(ex, tmp_path):
    ex.grids[1].turn = 3
    back = Explanation.load(ex.save(tmp_path / "turns.tam"))
    assert [g.turn for g in back.grids] == [0, 3]
    with np.load(tmp_path / "turns.tam", allow_pickle=False) as z:
        assert [g["turn"] for g in json.loads(z["header"].tobytes())["grids"]] == [0, 3]


def test_version_1_files_still_load_with_every_grid_turn_0(ex, tmp_path):
    ex.grids[1].turn = 2
    path = ex.save(tmp_path / "run.tam")

    def as_version_1(h):  # what tam-widgets wrote before grids had turns
        h["version"] = 1
        for g in h["grids"]:
            del g["turn"]

    old = _rewrite(path, tmp_path / "v1.tam", as_version_1)
    back = Explanation.load(old)
    assert [g.turn for g in back.grids] == [0, 0]
    np.testing.assert_array_equal(back.maps["tam"], ex.maps["tam"])
    assert back.tokens == ex.tokens
    # Saved again, it is a version-2 file.
    with np.load(back.save(tmp_path / "again.tam"), allow_pickle=False) as z:
        assert json.loads(z["header"].tobytes())["version"] == 2


@pytest.mark.parametrize("turn", [None, -1, "1", 1.0, True])
def test_a_version_2_grid_needs_its_turn(ex, tmp_path, turn):
    path = ex.save(tmp_path / "run.tam")

    def change(h):
        if turn is None:
            del h["grids"][0]["turn"]
        else:
            h["grids"][0]["turn"] = turn

    bad = _rewrite(path, tmp_path / "bad.tam", change)
    with pytest.raises(RecordError, match=r"grids\[0\]\.turn must be an int >= 0"):
        Explanation.load(bad)


@pytest.mark.parametrize("turn", [-1, "0", 1.5, True])
def test_a_grid_turn_is_a_non_negative_int(turn):
    grids = make_explanation().grids
    grids[0].turn = turn
    with pytest.raises(ValueError, match="turn must be an int >= 0"):
        make_explanation(grids=grids)
