"""``genverify report``: the table, the page and the exit status follow the checks."""

from __future__ import annotations

import io

from report import run
from report.page import Evidence


def passing() -> Evidence:
    return Evidence("1.h", "a claim that holds", "checked", True, 0.01)


def failing() -> Evidence:
    return Evidence("3.c", "a claim that fails", "refuted", False, 0.01)


def crashing() -> Evidence:
    raise RuntimeError("the model diverged")


def test_a_check_that_raises_is_reported_as_a_failed_check():
    results = run.run_checks([("ok", passing), ("boom", crashing)], progress=False)
    assert [r.ok for r in results] == [True, False]
    assert "RuntimeError: the model diverged" in results[1].check


def test_the_summary_table_names_each_claim_and_its_result():
    stream = io.StringIO()
    run.print_table([passing(), failing()], stream)
    lines = stream.getvalue().splitlines()
    assert any("a claim that holds" in line and " ok " in line for line in lines)
    assert any("a claim that fails" in line and "FAIL" in line for line in lines)


def test_the_exit_status_is_nonzero_when_any_check_fails_and_the_page_is_written(monkeypatch, tmp_path):
    monkeypatch.setattr(run, "all_checks", lambda **_: [("ok", passing), ("bad", failing)])
    assert run.run_report(out=str(tmp_path), quick=True, mnist_dir=None, progress=False) == 1
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "a claim that fails" in page and "1 of 2 checks passed" in page


def test_the_exit_status_is_zero_when_every_check_passes(monkeypatch, tmp_path):
    monkeypatch.setattr(run, "all_checks", lambda **_: [("ok", passing)])
    assert run.run_report(out=str(tmp_path), quick=True, mnist_dir=None, progress=False) == 0


def test_derivation_checks_carry_each_derivation_with_its_verdict():
    checks = run.derivation_checks()
    evidence = checks[0][1]()
    assert evidence.derivation is not None and evidence.verification is not None
    assert evidence.ok and evidence.part
