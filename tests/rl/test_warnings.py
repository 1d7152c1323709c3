"""Dependency notices that do not concern a command stay out of its output.

gymnasium-robotics 1.2.1-1.4.2 print a notice about three Adroit tasks' rewards to stderr on
every import; PointMaze commands import it too, so the import holds the notice back and only
building one of those Adroit tasks repeats it, as a warning.
"""

import subprocess
import sys
import warnings

import pytest

import selfguide_rl.data._tasks as tasks

NOTICE_TEXT = "reward functions were updated"
NOTICE = (
    "AdroitHandRelocateDense-v1, AdroitHandHammerDense-v1, AdroitHandDoorDense-v1 "
    "environment's reward functions were updated in v1.2.1 without an environment version "
    "update. Therefore, use gymnasium-robotics==1.2.0 for v1 reproducibility."
)


def _stderr_of(code: str) -> str:
    """The stderr of `code` run in a fresh interpreter (every import happens anew)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    return done.stderr


@pytest.fixture(scope="module")
def robotics_prints_notice():
    pytest.importorskip("gymnasium_robotics")
    if NOTICE_TEXT not in _stderr_of("import gymnasium_robotics"):
        pytest.skip("this gymnasium-robotics prints no Adroit notice at import")


def test_pointmaze_environments_build_without_the_adroit_notice(robotics_prints_notice):
    stderr = _stderr_of(
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "from selfguide_rl.data import TaskInfo, make_eval_env\n"
        "make_eval_env('pointmaze-umaze').close()\n"
        "TaskInfo('maze', 'maze2d', env_id='PointMaze_UMaze-v3').make_env().close()\n"
    )
    assert NOTICE_TEXT not in stderr


def test_the_cli_prints_no_adroit_notice(robotics_prints_notice, tmp_path):
    stderr = _stderr_of(
        "from selfguide_rl._cli import main\n"
        f"main(['collect', 'pointmaze-umaze', '--steps', '50', '--ref-episodes', '1', "
        f"'--out', {str(tmp_path)!r}])\n"
    )
    assert NOTICE_TEXT not in stderr


def test_building_a_named_adroit_task_repeats_the_notice(robotics_prints_notice):
    stderr = _stderr_of(
        "from selfguide_rl.data import d4rl_task_info\n"
        "d4rl_task_info('door-human-v0').make_env().close()\n"
    )
    assert "TaskInfo.make_env: gymnasium-robotics' notice on 'AdroitHandDoor-v1'" in stderr
    assert stderr.count(NOTICE_TEXT) == 1


def test_other_output_of_the_import_passes_through():
    notice, others = tasks._split_robotics_notice(f"before\n{NOTICE}\nafter\n")
    assert notice == NOTICE
    assert others == "before\nafter\n"
    assert tasks._split_robotics_notice("nothing to hold back\n") == (
        None,
        "nothing to hold back\n",
    )


@pytest.mark.parametrize(
    ("env_id", "concerned"),
    [
        ("AdroitHandDoor-v1", True),
        ("AdroitHandHammer-v1", True),
        ("AdroitHandRelocate-v1", True),
        ("AdroitHandDoorSparse-v1", False),  # the notice names the dense-reward tasks only
        ("AdroitHandPen-v1", False),
        ("AdroitHandDoor-v2", False),
        ("PointMaze_UMaze-v3", False),
    ],
)
def test_the_notice_is_repeated_only_for_the_tasks_it_names(monkeypatch, env_id, concerned):
    monkeypatch.setattr(tasks, "_quiet_robotics_import", lambda: (True, NOTICE))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tasks._warn_if_robotics_notice_concerns(env_id)
    assert [NOTICE in str(w.message) for w in caught] == ([True] if concerned else [])
