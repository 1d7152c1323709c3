"""RL settings: every bad `--set` is refused by name before the value stage; a reused run
directory names exactly the settings that differ; Ctrl-C says how to resume."""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import selfguide_rl as sgrl
from selfguide.training import _loop
from selfguide_rl._cli import main


def _must_not_run(*args, **kwargs):
    raise AssertionError("the value stage started before the settings were checked")


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("policy.weight_output=bogus", r"policy\.weight_output takes one of \['denoised', 'eps'\]"),
        ("values.steps=abc", r"values\.steps takes a value of type int .*got 'abc'"),
        ("values.stepz=100", r"'stepz' is not a setting; the ValueConfig settings are "
                             r"values\.loss, values\.tau"),
        ("guidance_scalee=3", r"'guidance_scalee' is not a setting; the preset's settings are "
                              r"name, family, weight"),
        ("policy.steps=-5", r"policy\.steps must be >= 0, got -5"),
        ("values.hidden=[32, \"x\"]", r"values\.hidden takes a value of type tuple"),
    ],
)
def test_bad_settings_are_refused_before_any_training(override, match, tmp_path, capsys,
                                                      monkeypatch):
    monkeypatch.setattr(_loop, "run_chunk", _must_not_run)
    code = main(["train", "no-such-dataset", "--run-dir", str(tmp_path / "run"),
                 "--set", override, "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("selfguide-rl train: error: ")
    assert re.search(match, err), err
    assert not (tmp_path / "run").exists()


def test_settings_are_converted_to_their_field_types():
    preset = sgrl.get_preset("maze2d").replace(**{"values.gamma": 1, "guidance_scale": 3,
                                                   "values.hidden": [8, 8]})
    assert preset.values.gamma == 1.0 and isinstance(preset.values.gamma, float)
    assert preset.guidance_scale == 3.0 and isinstance(preset.guidance_scale, float)
    assert preset.values.hidden == (8, 8)


def test_reference_preset_is_one_flag_away():
    assert sgrl.get_preset("maze2d").policy.weight_output == "denoised"
    reference = sgrl.get_preset("maze2d", reference=True)
    assert reference.policy.weight_output == "eps" and reference.name == "maze2d-reference"
    assert sgrl.PolicyConfig().weight_output == "denoised"


def test_reused_run_dir_names_only_the_differing_settings(umaze_dense, tmp_path, monkeypatch):
    root, dataset_id = umaze_dense
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    tiny = {"values.steps": 0, "policy.steps": 0, "policy.width": 8, "values.hidden": (8,),
            "actor.steps": 0}
    sgrl.train_run(dataset_id, tmp_path / "run", overrides=tiny, progress=False)
    with pytest.raises(ValueError) as info:
        sgrl.train_run(dataset_id, tmp_path / "run", progress=False,
                       overrides={**tiny, "values.steps": 5, "actor.beta": 1.0})
    message = str(info.value)
    listed = message.split("(saved → now): ")[1].split(". Use")[0].split("; ")
    assert sorted(listed) == ["preset.actor.beta: 3.0 → 1.0", "preset.values.steps: 0 → 5"]
    # Settings that only decide how the run acts may change: the run is reused as it is.
    agent = sgrl.train_run(dataset_id, tmp_path / "run", progress=False,
                           overrides={**tiny, "guidance_scale": 2.0, "clip_max": None,
                                      "idql_candidates": 8})
    assert agent.preset.guidance_scale == 2.0 and agent.preset.clip_max is None


def _interrupt_when(cmd, env, log: Path, ready, timeout: float = 240.0) -> tuple[int, str]:
    """Run `cmd` with stderr to `log`, send SIGINT once `ready(stderr)` holds; return the
    exit code and the whole stderr."""
    with log.open("w") as f:
        # The child starts with the default disposition of SIGINT (not one its parent may
        # have set), so Python installs its own handler, as in a user's shell.
        proc = subprocess.Popen(cmd, env=env, stderr=f, stdout=subprocess.DEVNULL,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        start = time.monotonic()
        while not ready(log.read_text()):
            if proc.poll() is not None or time.monotonic() - start > timeout:
                proc.kill()
                pytest.fail(f"never ready; stderr:\n{log.read_text()}")
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    return code, log.read_text()


def test_ctrl_c_says_where_the_checkpoint_is_and_how_to_resume(umaze_dense, tmp_path):
    root, dataset_id = umaze_dense
    run_dir = tmp_path / "run"
    exe = Path(sys.executable).with_name("selfguide-rl")
    cmd = [str(exe), "train", dataset_id, "--run-dir", str(run_dir), "--no-progress",
           "--set", "values.steps=1000000", "--set", "values.steps_per_chunk=50",
           "--set", "values.hidden=[16]"]
    env = {**os.environ, "MINARI_DATASETS_PATH": str(root)}
    # The first checkpoint is written after the first chunk: interrupt once it exists.
    code, err = _interrupt_when(cmd, env, tmp_path / "first.log",
                                lambda _: (run_dir / "values.ckpt").exists())
    assert code == 130 and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "interrupted at step" in line]
    assert len(lines) == 1, err
    assert f"the checkpoint {run_dir / 'values.ckpt'} holds step" in lines[0]
    resume = "Resume with: selfguide-rl train " + shlex.join(cmd[2:])
    assert lines[0].endswith(resume), lines[0]
    # The same command resumes and says from which step.
    code, err = _interrupt_when(cmd, env, tmp_path / "second.log",
                                lambda text: "values: resuming from step" in text)
    assert code == 130 and "Traceback" not in err, err
    assert "of 1,000,000 (checkpoint" in err
