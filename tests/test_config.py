"""Tests for ``ebm_helpers.config``: fast mode, seeding, device choice, no global side effects."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from ebm_helpers import config

# --------------------------------------------------------------------------------------------
# fast mode
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on", "On"])
def test_is_fast_true_values(monkeypatch, raw):
    monkeypatch.setenv("EBM_FAST", raw)
    assert config.is_fast() is True


@pytest.mark.parametrize("raw", ["", "0", "false", "No", "off", "  "])
def test_is_fast_false_values(monkeypatch, raw):
    monkeypatch.setenv("EBM_FAST", raw)
    assert config.is_fast() is False


def test_is_fast_unset_is_full_mode(monkeypatch):
    monkeypatch.delenv("EBM_FAST", raising=False)
    assert config.is_fast() is False


def test_is_fast_is_read_at_call_time(monkeypatch):
    """Switching the variable without re-importing the module takes effect immediately."""
    monkeypatch.setenv("EBM_FAST", "1")
    assert config.is_fast()
    monkeypatch.setenv("EBM_FAST", "0")
    assert not config.is_fast()
    monkeypatch.setenv("EBM_FAST", "1")
    assert config.is_fast()


@pytest.mark.parametrize("raw", ["2", "fast", "y", "-1", "1.0"])
def test_is_fast_rejects_unknown_values(monkeypatch, raw):
    monkeypatch.setenv("EBM_FAST", raw)
    with pytest.raises(ValueError, match="EBM_FAST"):
        config.is_fast()


def test_scaled_picks_by_mode(monkeypatch):
    monkeypatch.setenv("EBM_FAST", "1")
    assert config.scaled(full=20_000, fast=2_000) == 2_000
    monkeypatch.setenv("EBM_FAST", "0")
    assert config.scaled(full=20_000, fast=2_000) == 20_000
    monkeypatch.setenv("EBM_FAST", "bogus")
    with pytest.raises(ValueError):
        config.scaled(full=1, fast=0)


def test_progress_disabled(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("EBM_FAST", "0")
    assert not config.progress_disabled()
    monkeypatch.setenv("CI", "true")
    assert config.progress_disabled()
    monkeypatch.delenv("CI")
    monkeypatch.setenv("EBM_FAST", "1")
    assert config.progress_disabled()


# --------------------------------------------------------------------------------------------
# seeding
# --------------------------------------------------------------------------------------------


def _global_draws():
    return (
        torch.rand(5).tolist(),
        np.random.rand(5).tolist(),  # noqa: NPY002 - the legacy global is what is seeded
        [random.random() for _ in range(5)],
    )


def test_seed_everything_reproducible(restore_global_rng):
    config.seed_everything(123)
    first = _global_draws()
    config.seed_everything(123)
    second = _global_draws()
    assert first == second
    config.seed_everything(124)
    third = _global_draws()
    for a, b in zip(first, third, strict=True):
        assert a != b


def test_seed_everything_returns_seeded_generator(restore_global_rng):
    gen = config.seed_everything(7)
    assert isinstance(gen, torch.Generator)
    assert gen.device == torch.device("cpu")
    expected = torch.rand(4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(torch.rand(4, generator=gen), expected)
    # the returned generator is independent of the global one
    gen2 = config.seed_everything(7)
    torch.rand(100)  # advancing the global generator does not affect gen2
    assert torch.equal(torch.rand(4, generator=gen2), expected)


def test_seed_everything_large_seed_and_numpy_int(restore_global_rng):
    config.seed_everything(2**40 + 3)  # NumPy's legacy seed is taken mod 2^32
    a = _global_draws()
    config.seed_everything(np.int64(2**40 + 3))
    assert _global_draws() == a


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None, [1]])
def test_seed_everything_bad_seeds(seed, restore_global_rng):
    with pytest.raises(ValueError, match="seed"):
        config.seed_everything(seed)


# --------------------------------------------------------------------------------------------
# device
# --------------------------------------------------------------------------------------------


def test_device_cpu_here(monkeypatch):
    monkeypatch.delenv("EBM_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert config.device() == torch.device("cpu")
    assert config.device("cpu") == torch.device("cpu")
    assert config.device(" CPU ") == torch.device("cpu")


def test_device_default_without_override_matches_cuda_availability(monkeypatch):
    monkeypatch.delenv("EBM_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert config.device().type == expected


def test_device_env_variable(monkeypatch):
    monkeypatch.setenv("EBM_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert config.device() == torch.device("cpu")  # EBM_DEVICE overrides auto-detection


@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_device_cuda_without_cuda_raises(monkeypatch, name):
    monkeypatch.delenv("EBM_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA"):
        config.device(name)
    monkeypatch.setenv("EBM_DEVICE", name)
    with pytest.raises(ValueError, match="no CUDA"):
        config.device()


@pytest.mark.parametrize("name", ["gpu", "tpu", "mps", "cud"])
def test_device_unknown_name_raises(monkeypatch, name):
    monkeypatch.delenv("EBM_DEVICE", raising=False)
    with pytest.raises(ValueError, match="unknown device"):
        config.device(name)


def test_describe_keys(monkeypatch):
    monkeypatch.setenv("EBM_FAST", "1")
    monkeypatch.delenv("EBM_DEVICE", raising=False)
    info = config.describe()
    assert info["mode"] == "fast"
    assert info["torch"] == torch.__version__
    assert {"device", "python", "numpy", "scipy", "matplotlib", "torch_threads"} <= set(info)


def test_paths():
    assert (config.REPO_ROOT / "ebm_helpers" / "config.py").is_file()
    assert config.DATA_DIR == config.REPO_ROOT / "data"
    assert config.NOTEBOOKS_DIR == config.REPO_ROOT / "notebooks"


# --------------------------------------------------------------------------------------------
# importing changes no global state
# --------------------------------------------------------------------------------------------

_IMPORT_PROBE = textwrap.dedent(
    """
    import random
    import numpy as np
    import torch
    import matplotlib as mpl

    torch.manual_seed(11)
    np.random.seed(11)
    random.seed(11)
    before = (
        torch.random.get_rng_state().clone(),
        np.random.get_state()[1].copy(),
        random.getstate(),
        dict(mpl.rcParams),
        torch.get_default_dtype(),
    )
    import ebm_helpers
    from ebm_helpers import config, energies, metrics, plotting, samplers, widgets
    after = (
        torch.random.get_rng_state(),
        np.random.get_state()[1],
        random.getstate(),
        dict(mpl.rcParams),
        torch.get_default_dtype(),
    )
    problems = []
    if not torch.equal(before[0], after[0]):
        problems.append("torch RNG")
    if not np.array_equal(before[1], after[1]):
        problems.append("numpy RNG")
    if before[2] != after[2]:
        problems.append("python RNG")
    changed = sorted(k for k in before[3] if str(before[3][k]) != str(after[3][k]))
    if changed:
        problems.append("rcParams " + ",".join(changed))
    if before[4] != after[4]:
        problems.append("default dtype")
    print("PROBLEMS:", problems)
    """
)


def test_importing_the_package_changes_no_global_state():
    """Import every module in a fresh interpreter and compare global RNG states (torch, NumPy,
    Python), matplotlib's rcParams and torch's default dtype before and after."""
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(config.REPO_ROOT),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "PROBLEMS: []" in out.stdout, out.stdout + out.stderr


def test_set_torch_threads_reads_ebm_threads_and_validates(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("EBM_THREADS", raising=False)
        assert config.set_torch_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("EBM_THREADS", "2")
        assert config.set_torch_threads() == 2 and torch.get_num_threads() == 2
        assert config.set_torch_threads(1) == 1 and torch.get_num_threads() == 1
        for bad in ["zero", "0", "-3"]:
            monkeypatch.setenv("EBM_THREADS", bad)
            with pytest.raises(ValueError, match="threads"):
                config.set_torch_threads()
    finally:
        torch.set_num_threads(before)


def test_notebook_header_states_mode_and_measured_times(tmp_path, monkeypatch):
    import json

    from ebm_helpers import config

    path = tmp_path / "times.json"
    path.write_text(json.dumps({"04_x": {"fast_s": 41.2, "full_s": 159.0, "fast_peak_mb": 700.0,
                                         "full_peak_mb": 835.4, "measured_on": "2 CPU cores",
                                         "date": "2026-11-30"}}))
    monkeypatch.delenv("EBM_FAST", raising=False)
    line = config.notebook_header("04_x", path)
    assert line.startswith("mode: full; device: ")
    assert "(2 CPU cores, 2026-11-30): full 2.6 min, fast 41 s; peak kernel memory 835 MB" in line
    monkeypatch.setenv("EBM_FAST", "1")
    missing = config.notebook_header("99_missing", path)
    assert missing.endswith("not measured yet: run `make bench`.")
    assert config.notebook_header("04_x", tmp_path / "absent.json").startswith("mode: fast")
