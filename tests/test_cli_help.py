"""`tam-widgets --help` lists every command on one line; each command's --help describes it with examples."""

from __future__ import annotations

import re
import shlex

import pytest

from tam_widgets import cli


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as stop:
        cli.main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def _commands(capsys) -> list[str]:
    """The command names, from argparse's own error for a missing command (not from the help under test)."""
    with pytest.raises(SystemExit):
        cli.main(["no-such-command"])
    err = capsys.readouterr().err
    return re.findall(r"'([a-z-]+)'", err.split("choose from", 1)[1])


@pytest.fixture(autouse=True)
def _terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def test_top_level_help_has_one_line_per_command(capsys):
    commands = _commands(capsys)
    assert {"explain", "html", "evaluate", "compare", "timeline", "board", "compare-runs"} <= set(commands)
    text = _help(capsys)
    section = text.split("commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(section) == len(commands), f"each command should take one line of `--help`:\n{text}"
    for name, line in zip(commands, section):
        first, *rest = line.split()
        assert first == name and rest, f"{name!r}: help missing or wrapped (keep it < 60 characters):\n{text}"
    assert max(len(line) for line in text.splitlines()) <= 80


def test_every_command_has_a_description_and_examples(capsys):
    for name in _commands(capsys):
        assert name in cli.COMMANDS, f"add {name!r} to tam_widgets.cli.COMMANDS (its description and examples)"
        text = _help(capsys, name)
        description = text.split("\n\n")[1]
        assert len(description.split()) >= 8 and not description.lstrip().startswith(("options:", "-")), text
        examples = text.split("examples:\n", 1)[1]
        assert examples.startswith("  ") and ("tam-widgets " + name) in examples.replace(" \\\n     ", ""), text


def test_the_examples_parse(capsys, monkeypatch):
    """Every example line gets through argparse with the options it names (nothing runs)."""
    seen = []
    monkeypatch.setattr(cli, "_run", lambda args: seen.append(args.command) or 0)
    for name, (_, examples) in cli.COMMANDS.items():
        assert examples, f"{name}: no example"
        for line in examples:
            argv = shlex.split(line)
            argv = argv[argv.index("tam_widgets") + 1:] if "-m" in argv else argv[1:]
            assert cli.main(argv) == 0, f"the example `{line}` does not parse: {capsys.readouterr().err}"
            assert seen[-1] == name
