"""The ``.tam`` file format of :class:`~tam_widgets.record.Explanation`: writing, and reading with every check.

File format (:meth:`Explanation.save`, :meth:`Explanation.load`), version 2: one ``.npz`` zip
archive (suggested extension ``.tam``) of plain ``.npy`` entries (never pickles), holding

* ``header``: uint8 bytes of a UTF-8 JSON object ``{"format": "tam-widgets-explanation",
  "version": 2, "writer", "methods", "n_images", "tokens": [{"text", "id", "role", "turn",
  "position", and "raw_bytes" (hex) only for a byte-fragment token}, ...], "grids": [{"kind",
  "label", "offset", "grid", "frames", "turn"}, ...], "candidate_texts", "metadata"}``;
* ``explained``, ``text_relevance``, ``candidate_ids``, ``candidate_probs``, ``words``;
* ``maps_<j>`` for the ``j``-th name of ``header["methods"]``, ``image_<i>`` for each stored
  picture and ``boxes_<g>`` for each grid, every array with its own dtype (bit-exact).

Version 2 added each grid's ``turn`` (the turn that added the picture); version-1 files still
load, their grids all turn 0. Readers ignore header keys they do not know, so files with
``raw_bytes`` load in older versions (as text only). :meth:`Explanation.load` refuses anything
else with one :class:`RecordError` naming the file: unknown or missing entries, and entries whose
size, dtype or shape (from the zip directory and the ``.npy`` header, checked before
decompressing) disagree with the header.
"""

from __future__ import annotations

import errno
import json
import math
import os
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from .._version import __version__
from ..io import atomic_write
from .model import RecordError, Token, VisualGrid

if TYPE_CHECKING:
    from .model import Explanation

FORMAT = "tam-widgets-explanation"
"""The ``format`` field of every ``.tam`` file's header.

>>> FORMAT
'tam-widgets-explanation'
"""
VERSION = 2
"""The ``.tam`` format version written; files of this version and older are read.

>>> VERSION >= 2
True
"""


def payload(exp: Explanation) -> dict[str, np.ndarray]:
    """Every entry of the file, the header included; raises before any writing if unserialisable."""
    exp.__post_init__()
    _check_json(exp.metadata, "metadata")

    header = {
        "format": FORMAT,
        "version": VERSION,
        "writer": f"tam-widgets {__version__}",
        "methods": exp.methods,
        "n_images": len(exp.images),
        "tokens": [
            {"text": t.text, "id": int(t.id), "role": t.role, "turn": int(t.turn), "position": int(t.position)}
            | ({} if t.raw_bytes is None else {"raw_bytes": t.raw_bytes.hex()})
            for t in exp.tokens
        ],
        "grids": [
            {
                "kind": g.kind,
                "label": g.label,
                "offset": int(g.offset),
                "grid": list(g.grid),
                "frames": g.frames,
                "turn": int(g.turn),
            }
            for g in exp.grids
        ],
        "candidate_texts": exp.candidate_texts,
        "metadata": exp.metadata,
    }
    try:
        blob = json.dumps(header, ensure_ascii=True).encode("ascii")
    except (TypeError, ValueError) as e:
        raise TypeError(f"cannot serialise the explanation header to JSON: {e}") from e
    arrays = {
        "header": np.frombuffer(blob, np.uint8),
        "explained": exp.explained,
        "text_relevance": exp.text_relevance,
        "candidate_ids": exp.candidate_ids,
        "candidate_probs": exp.candidate_probs,
        "words": exp.words,
    }
    arrays.update({f"maps_{j}": m for j, m in enumerate(exp.maps.values())})
    arrays.update({f"image_{i}": im for i, im in enumerate(exp.images)})
    arrays.update({f"boxes_{k}": g.boxes for k, g in enumerate(exp.grids)})
    for name, a in arrays.items():
        if a.dtype.hasobject:
            raise TypeError(f"{name} has dtype object, which the file format cannot hold")
    return arrays


def save(exp: Explanation, path: str | os.PathLike) -> Path:
    """Write the explanation to one versioned ``.npz`` file (``.tam`` suggested), atomically.

    The data go to a temporary file beside ``path``, which is fsynced and then renamed over
    ``path``: a failure never leaves a partial file or damages an existing one. Metadata must be
    JSON-serialisable: str keys; None, bool, int, finite float, str, list/tuple (read back as lists)
    and dict values (``TypeError`` naming the key otherwise, raised before anything is written).

        ex.save("street.tam"); Explanation.load("street.tam")
    """
    arrays = payload(exp)
    return atomic_write(path, lambda f: np.savez_compressed(f, allow_pickle=False, **arrays))


def load(cls: type[Explanation], path: str | os.PathLike) -> Explanation:
    """:meth:`Explanation.load <tam_widgets.record.model.Explanation.load>`: what it checks and raises is said there."""
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "no tam-widgets explanation file at this path", str(path))
    if path.is_dir():
        raise RecordError(f"{path} is a directory, not a tam-widgets explanation file")
    with open(path, "rb") as f:
        try:
            header, data = _read_entries(f, path)
            return from_payload(cls, header, data, path)
        except RecordError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as e:
            raise RecordError(f"{path} is truncated or corrupt: {e}") from e
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, RecursionError) as e:
            raise RecordError(f"corrupt tam-widgets explanation {path}: {e}") from e


def from_payload(cls: type[Explanation], header: dict, data: dict[str, np.ndarray], path: Path) -> Explanation:
    """The record from a header checked by :func:`_entry_specs` and the arrays it asked for."""
    tokens = []
    for t in header["tokens"]:
        raw = t.get("raw_bytes")
        raw = None if raw is None else bytes.fromhex(raw)
        tokens.append(Token(t["text"], t["id"], t["role"], t["turn"], t["position"], raw))
    grids = []
    for k, g in enumerate(header["grids"]):
        turn = g.get("turn", 0)  # version 1 had no turns: every grid is turn 0
        boxes = data[f"boxes_{k}"]
        grids.append(VisualGrid(g["kind"], g["label"], g["offset"], tuple(g["grid"]), g["frames"], boxes, turn))
    return cls(
        tokens=tokens,
        explained=data["explained"],
        maps={m: data[f"maps_{j}"] for j, m in enumerate(header["methods"])},
        text_relevance=data["text_relevance"],
        grids=grids,
        images=[data[f"image_{i}"] for i in range(header["n_images"])],
        candidate_ids=data["candidate_ids"],
        candidate_probs=data["candidate_probs"],
        candidate_texts=header["candidate_texts"],
        words=data["words"],
        metadata=header["metadata"],
    )


# -- file format helpers -----------------------------------------------------------------------
MAX_HEADER_BYTES = 64 << 20
"""Largest JSON header read (bytes); tokens, candidate texts and metadata of long videos fit easily.

>>> MAX_HEADER_BYTES // 2**20  # MiB
64
"""
MAX_HEADER_DEPTH = 64
"""Deepest nesting of lists and dicts in the JSON header (metadata gets one level less).

>>> MAX_HEADER_DEPTH
64
"""
BOMB_FLOOR = 32 << 20
"""Zip-bomb guard: an entry, and the whole archive, larger than this many bytes may not be more than
:data:`MAX_RATIO` times its compressed size.

>>> BOMB_FLOOR // 2**20  # MiB
32
"""
MAX_RATIO = 100
"""Largest expansion of a big entry over its compressed size (deflate tops out near 1032:1; real records
are far below).

>>> MAX_RATIO
100
"""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _depth(value: Any) -> int:
    """How deeply lists and dicts nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d + 1)
            stack.extend((x, d + 1) for x in v)
    return deepest


def _read_header(arr: Any, path: Path) -> dict:
    """The JSON header, after checking that it is ours and not from a newer version."""
    not_ours = f"{path} is not a tam-widgets explanation"
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 1:
        raise RecordError(f"{not_ours} (its 'header' is not a byte array)")

    def no_constants(name: str):
        raise ValueError(f"{name} is not a JSON number")

    try:
        header = json.loads(arr.tobytes().decode("utf-8"), parse_constant=no_constants)
    except RecursionError:
        raise RecordError(f"corrupt tam-widgets explanation {path}: its header nests too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise RecordError(f"{not_ours} (its 'header' is not JSON)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        fmt = header.get("format") if isinstance(header, dict) else None
        raise RecordError(f"{not_ours} (format {fmt!r}, expected {FORMAT!r})")
    version = header.get("version")
    if not _is_int(version) or version < 1:
        raise RecordError(f"corrupt tam-widgets explanation {path}: bad format version {version!r}")
    if version > VERSION:
        raise RecordError(
            f"{path} uses format version {version}, newer than the version {VERSION} this "
            f"tam-widgets reads: upgrade tam-widgets (pip install -U tam-widgets)"
        )
    if _depth(header) > MAX_HEADER_DEPTH:
        raise RecordError(
            f"corrupt tam-widgets explanation {path}: its header nests deeper than {MAX_HEADER_DEPTH} levels"
        )
    return header


#: An entry's expected shape: each dimension fixed (int), free (None) or at most ``("<=", n)``.
_Shape = tuple[Any, ...]


def _entry_specs(header: dict) -> dict[str, tuple[_Shape, str]]:
    """Check the header's structure and give each array entry's expected ``(shape, dtype kinds)``.

    Raises ``ValueError`` naming the first field that is missing or of the wrong type.
    """

    def need(cond: bool, what: str) -> None:
        if not cond:
            raise ValueError(f"header field {what}")

    for key in ("methods", "n_images", "tokens", "grids", "candidate_texts", "metadata"):
        need(key in header, f"{key!r} is missing")
    methods, tokens, grids, texts = header["methods"], header["tokens"], header["grids"], header["candidate_texts"]
    need(isinstance(methods, list) and all(isinstance(m, str) for m in methods), "'methods' must be a list of str")
    need(len(set(methods)) == len(methods), f"'methods' lists a name twice: {methods!r}")
    need(_is_int(header["n_images"]) and header["n_images"] >= 0, "'n_images' must be an int >= 0")
    need(isinstance(header["metadata"], dict), "'metadata' must be an object")
    need(isinstance(tokens, list), "'tokens' must be a list")
    for i, t in enumerate(tokens):
        need(isinstance(t, dict), f"tokens[{i}] must be an object")
        for key, kind in (("text", str), ("id", int), ("role", str), ("turn", int), ("position", int)):
            ok = key in t and (_is_int(t[key]) if kind is int else isinstance(t[key], kind))
            need(ok, f"tokens[{i}].{key} must be {'an int' if kind is int else 'a str'}, got {t.get(key)!r}")
        raw = t.get("raw_bytes")
        if raw is not None:
            try:
                ok = isinstance(raw, str) and len(bytes.fromhex(raw)) > 0
            except ValueError:
                ok = False
            need(ok, f"tokens[{i}].raw_bytes must be a hex string of the token's bytes, got {raw!r}")
    need(isinstance(grids, list), "'grids' must be a list")
    n_vis, frames_of = 0, []
    for k, g in enumerate(grids):
        need(isinstance(g, dict), f"grids[{k}] must be an object")
        for key in ("kind", "label"):
            need(isinstance(g.get(key), str), f"grids[{k}].{key} must be a str, got {g.get(key)!r}")
        need(_is_int(g.get("offset")) and g["offset"] >= 0, f"grids[{k}].offset must be an int >= 0")
        shape, frames = g.get("grid"), g.get("frames")
        need(
            isinstance(shape, list) and len(shape) in (2, 3) and all(_is_int(x) and x >= 1 for x in shape),
            f"grids[{k}].grid must be 2 or 3 positive ints, got {shape!r}",
        )
        need(
            isinstance(frames, list) and all(_is_int(x) for x in frames),
            f"grids[{k}].frames must be a list of ints, got {frames!r}",
        )
        if header["version"] >= 2 or "turn" in g:  # version 1 had no turns: its grids are turn 0
            turn = g.get("turn")
            need(_is_int(turn) and turn >= 0, f"grids[{k}].turn must be an int >= 0, got {turn!r}")
        n_vis += math.prod(shape)
        frames_of.append(len(frames))
    need(isinstance(texts, list) and all(isinstance(r, list) for r in texts), "'candidate_texts' must be lists")
    need(all(isinstance(s, str) for r in texts for s in r), "'candidate_texts' must hold str")
    n_exp, n_tok = len(texts), len(tokens)
    k = len(texts[0]) if texts else None
    specs: dict[str, tuple[_Shape, str]] = {
        "explained": ((n_exp,), "iu"),
        "text_relevance": ((n_exp, n_tok), "f"),
        "candidate_ids": ((n_exp, k), "iu"),
        "candidate_probs": ((n_exp, k), "f"),
        "words": ((("<=", n_tok), 2), "iu"),
    }
    specs.update({f"maps_{j}": ((n_exp, n_vis), "f") for j in range(len(methods))})
    specs.update({f"image_{i}": ((None, None, 3), "u") for i in range(header["n_images"])})
    specs.update({f"boxes_{g}": ((t, 4), "iuf") for g, t in enumerate(frames_of)})
    return specs


def _read_entries(f: BinaryIO, path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The checked JSON header and every array the header calls for, from the open file ``f``."""
    if f.read(4) != b"PK\x03\x04":
        raise RecordError(f"{path} is truncated or not a tam-widgets explanation (not an .npz archive)")
    f.seek(0)
    try:
        z = zipfile.ZipFile(f)
    except zipfile.BadZipFile:
        raise RecordError(
            f"{path} is truncated or not a tam-widgets explanation (not a complete .npz archive)"
        ) from None
    with z:
        infos = z.infolist()
        twice = sorted(n for n, k in Counter(i.filename for i in infos).items() if k > 1)
        if twice:
            raise RecordError(f"corrupt tam-widgets explanation {path}: the archive holds {twice} twice")
        total, size = sum(i.file_size for i in infos), os.fstat(f.fileno()).st_size
        if total > BOMB_FLOOR and total > MAX_RATIO * size:
            raise RecordError(
                f"corrupt tam-widgets explanation {path}: its entries would expand {size} bytes to {total} "
                f"(more than {MAX_RATIO}:1, a zip bomb); nothing was read"
            )
        by_name = {i.filename: i for i in infos}
        if "header.npy" not in by_name:
            raise RecordError(f"{path} is not a tam-widgets explanation (an .npz without its header)")
        raw = _read_array(z, by_name["header.npy"], ((("<=", MAX_HEADER_BYTES),), "u"), path)
        header = _read_header(raw, path)
        try:
            specs = _entry_specs(header)
        except ValueError as e:
            raise RecordError(f"corrupt tam-widgets explanation {path}: {e}") from None
        expected = {f"{k}.npy" for k in specs} | {"header.npy"}
        unknown, missing = sorted(set(by_name) - expected), sorted(expected - set(by_name))
        if unknown or missing:
            parts = ([f"unknown entries {unknown}"] if unknown else []) + (
                [f"missing entries {missing}"] if missing else []
            )
            raise RecordError(
                f"corrupt tam-widgets explanation {path}: {' and '.join(parts)} "
                f"(its header lists {len(header['methods'])} map kinds, {header['n_images']} pictures "
                f"and {len(header['grids'])} grids)"
            )
        data = {k: _read_array(z, by_name[f"{k}.npy"], spec, path) for k, spec in specs.items()}
    return header, data


def _read_array(z: zipfile.ZipFile, info: zipfile.ZipInfo, spec: tuple[_Shape, str], path: Path) -> np.ndarray:
    """One ``.npy`` entry, read only after its size, dtype and shape passed the checks (``RecordError``)."""
    name = info.filename

    def bad(what: str) -> RecordError:
        if name == "header.npy":  # a foreign .npz that happens to have a "header"
            return RecordError(f"{path} is not a tam-widgets explanation (its 'header' entry {what})")
        return RecordError(f"corrupt tam-widgets explanation {path}: entry {name!r} {what}")

    if info.flag_bits & 0x1:
        raise bad("is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise bad(f"uses zip compression method {info.compress_type}; .tam files use deflate or none")
    if info.file_size > BOMB_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise bad(
            f"would expand {info.compress_size} compressed bytes to {info.file_size} "
            f"(more than {MAX_RATIO}:1, a zip bomb); it is not read"
        )
    shape_spec, kinds = spec
    with z.open(info) as e:
        try:
            version = np.lib.format.read_magic(e)
            if version not in ((1, 0), (2, 0)):
                raise bad(f"is in .npy format version {version}, which tam-widgets does not read")
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(e)
        except (ValueError, SyntaxError, TypeError) as err:
            if isinstance(err, RecordError):
                raise
            raise bad(f"is not a valid .npy array ({err})") from None
        if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None:
            raise bad(f"holds {dtype} values (objects or records), which tam-widgets never reads")
        size = math.prod(shape)
        if dtype.kind not in kinds and not (size == 0 and dtype.kind in "biuf"):
            names = {"i": "int", "u": "uint", "f": "float"}
            raise bad(f"has dtype {dtype}, expected {' or '.join(names[c] for c in kinds)}")
        if name == "header.npy" or name.startswith("image_"):
            if dtype != np.uint8:
                raise bad(f"has dtype {dtype}, expected uint8")
        fits = len(shape) == len(shape_spec) and all(
            want is None or (isinstance(want, tuple) and n <= want[1]) or n == want
            for n, want in zip(shape, shape_spec)
        )
        if not fits:
            want = tuple("any" if w is None else f"<= {w[1]}" if isinstance(w, tuple) else w for w in shape_spec)
            raise bad(f"has shape {shape}, but the header calls for {want}")
        nbytes = size * dtype.itemsize
        if e.tell() + nbytes != info.file_size:
            raise bad(f"declares {e.tell() + nbytes} bytes but the archive lists {info.file_size}")
        buf = bytearray(nbytes)
        view, got = memoryview(buf), 0
        while got < nbytes:
            n = e.readinto(view[got : got + (16 << 20)])
            if not n:
                raise bad(f"is truncated ({got} of {nbytes} bytes)")
            got += n
        if e.read(1):  # also completes the CRC check
            raise bad("holds more bytes than its header declares")
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _check_json(value: Any, where: str, depth: int = 0) -> None:
    """Raise ``TypeError`` naming the first value under ``where`` that JSON cannot round-trip."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where} is {value!r}, which JSON cannot store; use None or a string")
        return
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_HEADER_DEPTH - 2:
        raise TypeError(f"{where} nests lists/dicts deeper than {MAX_HEADER_DEPTH - 2} levels, which files cannot hold")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} has the key {k!r} of type {type(k).__name__}; JSON keys must be str")
            _check_json(v, f"{where}[{k!r}]", depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]", depth + 1)
        return
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which is not "
        f"JSON-serialisable; convert it (e.g. to str, int, float, list or dict) before saving"
    )
