"""The `selfguide-rl` command line: `collect` and `info`."""

import argparse

import pytest

from selfguide_rl._cli import COMMANDS, build_parser, command, main


def test_subcommands_are_registered():
    assert {"collect", "info"} <= set(COMMANDS)
    parser = build_parser()
    args = parser.parse_args(["collect", "pointmaze-medium-dense", "--steps", "5", "--out", "x"])
    assert (args.task, args.steps, str(args.root), args.seed) == (
        "pointmaze-medium-dense",
        5,
        "x",
        0,
    )
    with pytest.raises(ValueError, match="the subcommand 'info' is registered twice"):
        command("info", "again", lambda p: None)(lambda a: 0)


def test_a_new_subcommand_plugs_in(monkeypatch, capsys):
    monkeypatch.setattr("selfguide_rl._cli.COMMANDS", dict(COMMANDS))

    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", default="x")

    @command("hello", "say hello", add)
    def hello(args: argparse.Namespace) -> int:
        print(f"hello {args.name}")
        return 0

    assert main(["hello", "--name", "maze"]) == 0
    assert capsys.readouterr().out == "hello maze\n"


def test_collect_then_info(tmp_path, capsys):
    pytest.importorskip("gymnasium_robotics")
    root = tmp_path / "out"
    code = main(
        [
            "collect",
            "pointmaze-umaze",
            "--steps",
            "200",
            "--seed",
            "1",
            "--ref-episodes",
            "1",
            "--out",
            str(root),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "collected 200 steps" in out and "steps/s" in out
    assert "reference scores over 1 episodes: min" in out
    assert (root / "selfguide" / "pointmaze-umaze-v1" / "data").is_dir()
    assert f"MINARI_DATASETS_PATH={root}" in out

    assert main(["info", "selfguide/pointmaze-umaze-v1", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "steps: 200" in out and "family: maze2d" in out
    assert "env_id: PointMaze_UMaze-v3" in out and "ref_max_score" in out


def test_info_of_the_door_file(door_file, capsys):
    assert main(["info", str(door_file)]) == 0
    out = capsys.readouterr().out
    assert "steps: 6,729" in out and "episodes: 25" in out and "observation dim: 39" in out
    assert "ref_min_score: -56.512833" in out


def test_errors_are_reported_not_raised(capsys):
    assert main(["info", "D4RL/door/human"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("selfguide-rl info: error: load_minari: malformed dataset id")
    assert main(["info", "D4RL/door/human-v2"]) == 1
    assert "selfguide-rl collect" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["collect", "pointmaze-huge"])
