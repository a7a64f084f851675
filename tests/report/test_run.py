"""``genverify report``: rows stream, wrap and time each check; inputs are refused up front.

Each property has a detector, and each detector a twin run on the old behaviour it replaced
(the whole table printed after the last check, claims cut at 52 characters, derivations
verified up front with only the verification timed, no input check, a crashing check filed
under part "?"), which the detector must flag.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from report import run
from report.evidence import Check
from report.page import Evidence

ROOT = Path(__file__).resolve().parents[2]


def passing() -> Evidence:
    return Evidence("1.h", "a claim that holds", "checked", True, 0.01)


def failing() -> Evidence:
    return Evidence("3.c", "a claim that fails", "refuted", False, 0.01)


def crashing() -> Evidence:
    raise RuntimeError("the model diverged")


def test_a_check_that_raises_is_a_failed_check_under_its_own_part():
    results = run.run_checks([Check("ok", "1.h", passing), Check("boom", "3.c", crashing)],
                             progress=False, stream=io.StringIO())
    assert [r.ok for r in results] == [True, False]
    assert "RuntimeError: the model diverged" in results[1].check
    assert results[1].part == "3.c"


def test_a_model_check_whose_training_raises_keeps_its_part(monkeypatch):
    import models.gan
    from report import evidence

    def diverge(*args, **kwargs):
        raise FloatingPointError("loss is nan")

    monkeypatch.setattr(models.gan, "train_discriminator", diverge)
    check = next(c for c in evidence.gan_checks(quick=True) if "1-D" in c.name)
    [result] = run.run_checks([check], progress=False, stream=io.StringIO())
    assert not result.ok and result.part == "3.c" != "?"


def test_the_summary_table_names_each_claim_and_its_result():
    stream = io.StringIO()
    run.print_table([passing(), failing()], stream)
    lines = stream.getvalue().splitlines()
    assert any("a claim that holds" in line and " ok " in line for line in lines)
    assert any("a claim that fails" in line and "FAIL" in line for line in lines)


def test_the_table_says_what_its_time_means():
    stream = io.StringIO()
    run.print_table([passing()], stream, width=100)
    text = " ".join(stream.getvalue().split())
    assert "wall-clock seconds of that check alone" in text
    assert "its training counts in the first of them" in text


def test_the_exit_status_is_nonzero_when_any_check_fails_and_the_page_is_written(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(run, "all_checks", lambda **_: [Check("ok", "1.h", passing),
                                                        Check("bad", "3.c", failing)])
    assert run.run_report(out=str(tmp_path), quick=True, mnist_dir=None, progress=False) == 1
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "a claim that fails" in page
    assert "1 of 2 checks passed" in capsys.readouterr().out


def test_the_exit_status_is_zero_when_every_check_passes(monkeypatch, tmp_path):
    monkeypatch.setattr(run, "all_checks", lambda **_: [Check("ok", "1.h", passing)])
    assert run.run_report(out=str(tmp_path), quick=True, mnist_dir=None, progress=False) == 0


def test_derivation_checks_carry_each_derivation_with_its_verdict():
    checks = run.derivation_checks()
    evidence = checks[0].run()
    assert evidence.derivation is not None and evidence.verification is not None
    assert evidence.ok and evidence.part and checks[0].process is None  # SymPy stays here


# --------------------------------------------------------------------------------------------
# rows stream: each one reaches a pipe as its check ends

_STREAMING_CHILD = """
import sys, time
from pathlib import Path
from report import run
from report.evidence import Check
from report.page import Evidence

gate, started, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

def fast():
    return Evidence("1.h", "the fast claim", "checked", True, 0.0)

def slow():
    started.touch()
    deadline = time.monotonic() + 60
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return Evidence("1.h", "the slow claim", "released", True, 0.0)

fast_check = Check("fast", "1.h", fast, process="worker" if mode == "forked" else None)
checks = [fast_check, Check("slow", "1.h", slow)]
if mode == "old":  # the old behaviour: run everything, then print the table
    run.print_table([c.run() for c in checks])
else:
    run.run_checks(checks, progress=False, background=(mode == "forked"))
"""


def _streams_rows(tmp_path: Path, mode: str) -> bool:
    """Whether the first check's row comes through a pipe while the last check still runs."""
    gate, started = tmp_path / "gate", tmp_path / "started"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _STREAMING_CHILD, str(gate), str(started), mode],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        os.set_blocking(child.stdout.fileno(), False)
        seen, deadline = b"", time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
        assert started.exists(), child.stderr.read().decode()
        patience = time.monotonic() + 3  # the slow check has started: its row is not out yet
        while b"the fast claim" not in seen and time.monotonic() < patience:
            seen += child.stdout.read() or b""
            time.sleep(0.01)
        streamed = b"the fast claim" in seen and b"the slow claim" not in seen
    finally:
        gate.touch()
        os.set_blocking(child.stdout.fileno(), True)
        rest, errors = child.communicate(timeout=60)
    assert child.returncode == 0, errors.decode()
    assert b"the slow claim" in seen + rest
    return streamed


def test_each_row_reaches_a_pipe_before_the_last_check_ends(tmp_path):
    assert _streams_rows(tmp_path, "in order")


def test_a_row_from_the_forked_worker_reaches_a_pipe_while_another_check_runs(tmp_path):
    assert _streams_rows(tmp_path, "forked")


def test_twin_a_table_printed_after_the_last_check_is_not_streaming(tmp_path):
    assert not _streams_rows(tmp_path, "old")


def test_forked_checks_come_back_in_check_order_and_a_raising_one_keeps_its_part():
    checks = [Check("a", "1.h", passing, "one"), Check("b", "3.c", failing),
              Check("c", "4.b", crashing, "two"), Check("d", "1.h", passing, "one")]
    stream = io.StringIO()
    results = run.run_checks(checks, progress=False, stream=stream, background=True)
    assert [r.ok for r in results] == [True, False, False, True]
    assert [r.part for r in results] == ["1.h", "3.c", "4.b", "1.h"]
    assert "the model diverged" in results[2].check
    assert stream.getvalue().count("a claim that holds") == 2


def test_checks_of_one_process_share_what_the_first_of_them_built():
    state = {}

    def build() -> Evidence:
        state["model"] = os.getpid()
        return Evidence("2", "trains", "trained", True, 0.0)

    def reuse() -> Evidence:
        return Evidence("2", "reuses", str(state.get("model")), "model" in state, 0.0)

    checks = [Check("train", "2", build, "model"), Check("use", "2", reuse, "model")]
    results = run.run_checks(checks, progress=False, stream=io.StringIO(), background=True)
    assert all(r.ok for r in results) and results[1].check != str(os.getpid())


def test_a_forked_check_the_worker_never_finished_is_a_failed_check():
    def die() -> Evidence:
        os._exit(3)

    results = run.run_checks([Check("dies", "2", die, "worker"), Check("ok", "1.h", passing)],
                             progress=False, stream=io.StringIO(), background=True)
    assert [r.ok for r in results] == [False, True]
    assert results[0].part == "2" and "exit status 3" in results[0].check


# --------------------------------------------------------------------------------------------
# claims and evidence wrap inside their columns

LONG = Evidence("4.c", "annealed Langevin with the exact score samples the noised mixture p_σ",
                "[pass] energy test (spectral): Ê = -0.001834 for n = 2000, m = 2000; spectral "
                "threshold 0.04494\n[pass] sliced KS test: max over 16 slices of sup|F_n − G_m| = "
                "0.027, n = 5000; threshold 0.0615 at α/L = 1.25e-08 per slice", True, 2.5)


def _columns_hold(text: str, width: int, e: Evidence) -> bool:
    """Every line fits ``width``; the claim's words come back whole from the claim column; the
    evidence lines sit in the check column and give back the evidence's words in order."""
    layout = run.TableLayout.for_width(width)
    lines = text.splitlines()
    body = lines[2:]  # below the header and its rule, down to the closing rule
    rows = body[:next((i for i, line in enumerate(body) if line.startswith("---")), len(body))]
    claim_start = layout.PART + 1
    check_start = claim_start + layout.claim + 1 + layout.RESULT + 1 + layout.TIME + 2
    claim = " ".join(line[claim_start:claim_start + layout.claim].strip() for line in rows)
    check = " ".join(line[check_start:].strip() for line in rows)
    in_column = all(line[:check_start].strip() == "" or line[:claim_start].strip() in ("", e.part)
                    for line in rows)
    return (all(len(line) <= width for line in lines) and claim.split() == e.claim.split()
            and check.split() == e.check.split() and in_column)


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_claims_and_multiline_evidence_wrap_inside_their_columns(width):
    stream = io.StringIO()
    run.print_table([LONG], stream, width=width)
    assert _columns_hold(stream.getvalue(), width, LONG)


def test_the_columns_follow_the_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    stream = io.StringIO()
    run.print_table([LONG], stream)
    assert max(len(line) for line in stream.getvalue().splitlines()) <= 72


def test_twin_a_claim_cut_at_52_characters_and_evidence_past_the_table_are_caught():
    e = LONG
    old = (f"{'part':7} {'claim':52} {'result':6} {'time':>7}  check\n"
           f"{e.part:7} {e.claim[:52]:52} {'ok':6} {e.seconds:6.2f}s  {e.check}\n")
    assert not _columns_hold(old, 100, e)


# --------------------------------------------------------------------------------------------
# a derivation's row shows its own time

def _row_seconds(monkeypatch, advance: float) -> list[float]:
    """The times of the first derivation rows on a fake clock that moves ``advance`` seconds
    each time a derivation is verified (and not otherwise)."""
    from derivations.core import Derivation

    clock = [0.0]
    verify = Derivation.verify

    def timed(self, *args, **kwargs):
        clock[0] += advance
        return verify(self, *args, **kwargs)

    monkeypatch.setattr(run.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(Derivation, "verify", timed)
    return [check.run().seconds for check in run.derivation_checks()[:3]]


def test_each_derivation_row_shows_the_time_of_its_own_verification(monkeypatch):
    assert all(seconds >= 1.0 for seconds in _row_seconds(monkeypatch, advance=1.0))


def test_twin_a_row_timed_around_no_work_shows_none(monkeypatch):
    assert all(seconds == 0.0 for seconds in _row_seconds(monkeypatch, advance=0.0))


# --------------------------------------------------------------------------------------------
# inputs are checked before any work


def _idx(path: Path, ndim: int, compress: bool = False) -> None:
    data = bytes((0, 0, 0x08, ndim)) + b"\x00\x00\x00\x01" * ndim + b"\x00"
    if compress:
        with gzip.open(path.with_name(path.name + ".gz"), "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def _mnist_dir(tmp_path: Path, *, leave_out: str | None = None, compress: bool = False) -> Path:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for stem, ndim in run.MNIST_FILES.items():
        if stem != leave_out:
            _idx(folder / stem, ndim, compress=compress and "labels" in stem)
    return folder


def _refusal(args: list[str], monkeypatch) -> tuple[int, str, bool, float]:
    """Run ``genverify report ARGS``; the exit status, stderr, whether any check was
    collected (work started) and the seconds it took."""
    from genverify import cli

    started = []
    monkeypatch.setattr(run, "all_checks", lambda **_: started.append(True) or [])
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    start = time.perf_counter()
    status = cli.main(["report", *args])
    return status, stderr.getvalue(), bool(started), time.perf_counter() - start


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    not_idx = _mnist_dir(tmp_path)
    (not_idx / "train-images-idx3-ubyte").write_bytes(b"PK\x03\x04 a zip file")
    lacking = tmp_path / "lacking"
    lacking.mkdir()
    (lacking / "train-images-idx3-ubyte").write_bytes(bytes((0, 0, 8, 3)))
    out = str(tmp_path / "out")
    return {
        "missing": (["--mnist-dir", str(tmp_path / "nowhere"), "--out", out], "no such directory"),
        "a file": (["--mnist-dir", str(a_file), "--out", out], "not a directory"),
        "no IDX files": (["--mnist-dir", str(lacking), "--out", out], "missing the MNIST IDX files"),
        "not IDX": (["--mnist-dir", str(not_idx), "--out", out], "is not an MNIST IDX file"),
        "out is a file": (["--out", str(a_file)], "is a file"),
        "out under a file": (["--out", str(a_file / "report")], "is a file"),
    }


def test_bad_inputs_are_refused_at_once_with_one_line_and_exit_status_2(tmp_path, monkeypatch):
    for case, (args, reason) in _bad_inputs(tmp_path).items():
        status, stderr, started, seconds = _refusal(args, monkeypatch)
        assert status == 2, case
        assert not started and seconds < 1.0, case
        assert stderr.count("\n") == 1 and reason in stderr and "Traceback" not in stderr, case
        assert stderr.startswith("genverify report: --"), case


def test_twin_without_the_input_check_the_report_starts_work_on_a_missing_mnist_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "check_inputs", lambda **_: None)  # the old behaviour
    args, _ = _bad_inputs(tmp_path)["missing"]
    status, _, started, _ = _refusal(args, monkeypatch)
    assert started and status != 2


@pytest.mark.parametrize("compress", [False, True])
def test_a_complete_mnist_dir_and_a_new_out_folder_are_accepted(tmp_path, compress):
    run.check_inputs(out=str(tmp_path / "new" / "report"), mnist_dir=str(_mnist_dir(tmp_path, compress=compress)))
    run.check_inputs(out=str(tmp_path), mnist_dir=None)


@pytest.mark.parametrize("stem", sorted(run.MNIST_FILES))
def test_each_missing_idx_file_is_named(tmp_path, stem):
    with pytest.raises(run.ReportInputError, match=re.escape(stem)):
        run.check_inputs(out=str(tmp_path / "out"), mnist_dir=str(_mnist_dir(tmp_path, leave_out=stem)))


def test_the_report_error_is_a_value_error_with_one_line():
    assert issubclass(run.ReportInputError, ValueError)
    with pytest.raises(run.ReportInputError) as caught:
        run.check_inputs(out="genverify-report", mnist_dir="/nonexistent/mnist")
    assert "\n" not in str(caught.value) and "--mnist-dir" in str(caught.value)


def test_quick_mode_says_that_it_leaves_the_mnist_dir_unused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "all_checks", lambda **_: [Check("ok", "1.h", passing)])
    mnist = _mnist_dir(tmp_path)
    assert run.run_report(out=str(tmp_path / "out"), quick=True, mnist_dir=str(mnist), progress=False) == 0
    assert "--mnist-dir is not used" in capsys.readouterr().err
    run.run_report(out=str(tmp_path / "out"), quick=False, mnist_dir=str(mnist), progress=False)
    assert "not used" not in capsys.readouterr().err  # twin: the full run uses it
