"""The command line: inputs checked before the model loads, one-line errors, quiet logs."""

import io

import pytest
from PIL import Image
from skimage import data as skimage_data

import tam_widgets as tw
import tam_widgets.explain
from tam_widgets.cli import _Status, main
from tam_widgets.testing import tiny_model


@pytest.fixture()
def picture(tmp_path):
    path = tmp_path / "cat.png"
    Image.fromarray(skimage_data.chelsea()).save(path)
    return path


@pytest.fixture()
def no_loading(monkeypatch):
    """Fail the test if a model's weights would be loaded."""

    def refuse(*a, **k):
        raise AssertionError("the model was loaded before the inputs were checked")

    monkeypatch.setattr(tam_widgets.explain, "load", refuse)


def _explain(model, *extra, out="x.tam"):
    return ["explain", "--model", str(model), "--prompt", "What is it?", "--out", str(out), *extra]


def _one_error(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_bad_inputs_fail_before_the_model_loads(tmp_path, picture, capsys, no_loading):
    model = tiny_model("qwen2_vl")
    out = tmp_path / "x.tam"
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (_explain(model, "--image", str(tmp_path / "missing.jpg"), out=out), "missing.jpg does not exist"),
        (_explain(model, out=out), "--image PATH"),
        (_explain(model, "--image", str(tmp_path), out=out), "is a folder"),
        (_explain(model, "--image", str(picture), out=tmp_path), "is a folder; give a file name"),
        (_explain(model, "--image", str(picture), "--max-new-tokens", "0", out=out), "--max-new-tokens"),
        (_explain(model, "--video", str(tmp_path / "nope.mp4"), out=out), "nope.mp4 does not exist"),
        (_explain(tmp_path / "no" / "such-model", "--image", str(picture), out=out), "no such folder"),
        (_explain("./mistyped-model", "--image", str(picture), out=out), "no such folder: ./mistyped-model"),
        (_explain(tiny_model("llava"), "--video", str(empty), out=out), "without .png/.jpg frames"),
    ]
    (tmp_path / "notes.png").write_text("not a picture")
    cases.append((_explain(model, "--image", str(tmp_path / "notes.png"), out=out), "cannot read"))
    for argv, needle in cases:
        assert main(argv) == 2, argv
        _one_error(capsys.readouterr().err, needle)
    assert not out.exists()


def test_llava_with_a_video_is_refused_before_loading(tmp_path, picture, capsys, no_loading):
    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(2):
        Image.fromarray(skimage_data.chelsea()).save(frames / f"{k}.png")
    assert main(_explain(tiny_model("llava"), "--video", str(frames), out=tmp_path / "v.tam")) == 2
    _one_error(capsys.readouterr().err, "do not take --video")


def test_debug_shows_the_traceback_and_other_errors_exit_1(tmp_path, picture, capsys, monkeypatch):
    argv = _explain(tiny_model("qwen2_vl"), "--image", str(tmp_path / "missing.jpg"), out=tmp_path / "x.tam")
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        main(["--debug", *argv])
    with pytest.raises(FileNotFoundError):
        main([*argv, "--debug"])

    def crash(*a, **k):
        raise RuntimeError("CUDA out of memory\n(simulated)")

    monkeypatch.setattr(tam_widgets.explain, "load", crash)
    argv = _explain(tiny_model("qwen2_vl"), "--image", str(picture), out=tmp_path / "x.tam")
    assert main(argv) == 1
    _one_error(capsys.readouterr().err, "CUDA out of memory (simulated)")
    with pytest.raises(RuntimeError):
        main(["--debug", *argv])
    # argparse usage errors keep argparse's exit status 2
    with pytest.raises(SystemExit) as e:
        main(["explain", "--model", "m"])
    assert e.value.code == 2


def test_explain_creates_the_out_folder_and_logs_one_line_per_stage(tmp_path, picture, capsys):
    out = tmp_path / "new" / "deeper" / "cat.tam"
    html = tmp_path / "pages" / "cat.html"
    argv = _explain(tiny_model("qwen2_vl"), "--image", str(picture), "--max-new-tokens", "2", "--html", str(html),
                    out=out)
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert out.is_file() and html.is_file() and f"wrote {out}" in printed.out
    exp = tw.Explanation.load(out)
    assert exp.metadata["untrained"] is True
    # stderr is not a terminal here: no carriage returns, no weights bar, one line per stage
    assert "\r" not in printed.err and "Loading weights" not in printed.err
    stages = printed.err.strip().splitlines()
    assert len(stages) == 2 and stages[0].startswith("loading ") and stages[1].startswith("generating ")
    assert all(" ... done in " in s for s in stages)
    # control strings in the prompt are refused (after loading: the tokenizer knows them)
    argv = ["explain", "--model", str(tiny_model("qwen2_vl")), "--image", str(picture), "--prompt",
            "Hi<|im_end|>", "--out", str(tmp_path / "y.tam")]
    assert main(argv) == 2
    _one_error(capsys.readouterr().err, "'<|im_end|>'", "allow_special_tokens")
    assert not (tmp_path / "y.tam").exists()


def test_status_ticks_only_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    with _Status("working"):
        import time

        time.sleep(0.7)
    assert term.getvalue().count("\r") >= 2 and term.getvalue().rstrip().endswith("s")
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    with pytest.raises(KeyError), _Status("failing"):
        raise KeyError("x")
    assert "\r" not in log.getvalue() and log.getvalue().startswith("failing ... failed after ")


def test_html_errors_and_missing_folders(tmp_path, capsys):
    from tam_widgets.testing.records import small_record

    assert main(["html", str(tmp_path / "nope.tam")]) == 2
    _one_error(capsys.readouterr().err, "nope.tam")
    rec = small_record().save(tmp_path / "r.tam")
    out = tmp_path / "site" / "r.html"
    assert main(["html", str(rec), "--out", str(out)]) == 0
    assert out.is_file() and "TamWidgets.mount" in out.read_text()
    capsys.readouterr()
    assert main(["demo", "--out", str(rec)]) == 2  # the demo writes a folder: a file is refused, and kept
    _one_error(capsys.readouterr().err, "is a file")
    assert rec.is_file()
