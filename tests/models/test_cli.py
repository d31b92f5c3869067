"""`python -m spam_service.models list | promote | current` against a real SQLite tracking store."""

import os
import subprocess
import sys
import time

import pytest

from spam_service.models.__main__ import main
from spam_service.models.promotion import GateFigures
from spam_service.models.registry import ModelRegistry
from tests.support import REPO_ROOT
from tests.support.live_server import free_port
from tests.support.mlflow_stores import evaluation_reports


def register(published, digest: str, **figures) -> str:
    """Another version of the published model, with the gate figures `figures` change (see evaluation_reports)."""
    tags = {**GateFigures.from_reports(*evaluation_reports(**figures)).as_tags(), "model_version": digest}
    return ModelRegistry().register(published.model_uri, run_id=published.run_id, tags=tags)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_on_an_empty_store_says_how_versions_get_there(tracking_store, capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and "no versions of spam-classifier" in out and "dvc repro" in out


def test_list_shows_each_version_with_aliases_metrics_intervals_int8_rule_and_digest(published, capsys):
    register(published, "bbbbbbbbbbbb", spam_f1=0.96, int8_spam_f1=0.9)
    assert run_cli(capsys, "promote", "1", "--alias", "champion")[0] == 0
    code, out, _ = run_cli(capsys, "list")
    header, second, first = out.splitlines()
    assert code == 0 and "test spam F1 [95% CI]" in header and "ham blocked [95% CI]" in header
    assert second.split()[:2] == ["2", "-"] and "0.9600 [0.9500-0.9900]" in second and "fail (-0.07)" in second
    assert first.split()[:2] == ["1", "champion"] and "pass (-0.002)" in first and "0123456789ab" in first
    assert "0.0050 [0.0010-0.0100]" in first


def test_promote_to_champion_without_a_champion_then_current_shows_it(published, capsys):
    code, out, err = run_cli(capsys, "promote", published.version, "--alias", "champion")
    assert code == 0 and "@champion -> version 1 (was not set)" in out, err
    code, out, _ = run_cli(capsys, "current")
    assert out.splitlines() == ["@champion: version 1 (digest 0123456789ab)", "@challenger: not set"]


def test_a_candidate_worse_than_the_champion_beyond_its_interval_is_refused_with_the_reason(published, capsys):
    run_cli(capsys, "promote", "1", "--alias", "champion")
    worse = register(published, "cccccccccccc", spam_f1=0.94, ham_blocked=0.02)
    code, out, err = run_cli(capsys, "promote", worse, "--alias", "champion")
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert "version 2 not promoted to @champion" in line and "--force" in line
    assert "spam F1 0.9400 is below the champion's 95% interval [0.9500, 0.9900]" in line
    assert "ham-blocked rate 0.0200 is above" in line
    assert ModelRegistry().resolve("models:/spam-classifier@champion") == "1"


def test_a_candidate_within_the_champions_interval_is_promoted(published, capsys):
    run_cli(capsys, "promote", "1", "--alias", "champion")
    close = register(published, "dddddddddddd", spam_f1=0.951)
    code, out, _ = run_cli(capsys, "promote", close, "--alias", "champion")
    assert code == 0 and "@champion -> version 2 (was version 1)" in out


def test_a_broken_int8_rule_is_refused_even_without_a_champion(published, capsys):
    broken = register(published, "eeeeeeeeeeee", int8_spam_f1=0.96)
    code, _, err = run_cli(capsys, "promote", broken, "--alias", "champion")
    assert code == 1 and "int8 rule broken: onnx-int8 served spam F1 0.9600 is 0.0100 below" in err


def test_force_overrides_the_gate_and_is_recorded_on_the_version(published, capsys, caplog):
    run_cli(capsys, "promote", "1", "--alias", "champion")
    worse = register(published, "ffffffffffff", spam_f1=0.9)
    code, out, _ = run_cli(capsys, "promote", worse, "--alias", "champion", "--force")
    assert code == 0 and "FORCED over the gate: test spam F1 0.9000 is below" in out
    assert any("FORCED promotion of spam-classifier version 2" in r.getMessage() for r in caplog.records)
    version = ModelRegistry().get(worse)
    assert version.aliases == ("champion",)
    tags = version.tags
    assert tags["promotion.forced"] == "true" and tags["promotion.forced.alias"] == "champion"
    assert tags["promotion.forced.reasons"].startswith("test spam F1 0.9000 is below")
    assert tags["promotion.forced.at"].endswith("+00:00") and tags["promotion.forced.by"]
    _, listed, _ = run_cli(capsys, "list")
    assert "ffffffffffff (forced)" in listed


def test_challenger_is_not_gated(published, capsys):
    run_cli(capsys, "promote", "1", "--alias", "champion")
    worse = register(published, "999999999999", spam_f1=0.5, int8_spam_f1=0.1)
    code, out, _ = run_cli(capsys, "promote", worse, "--alias", "challenger")
    assert code == 0 and "@challenger -> version 2" in out
    assert "promotion.forced" not in ModelRegistry().get(worse).tags


def test_an_unknown_version_fails_with_one_line_saying_what_to_run(published, capsys):
    code, out, err = run_cli(capsys, "promote", "42", "--alias", "champion")
    [line] = err.splitlines()
    assert code == 1 and out == "" and "not found" in line and "python -m spam_service.models list" in line


@pytest.mark.parametrize("argv", [[], ["promote", "1"], ["promote", "1", "--alias", "production"], ["serve"]])
def test_wrong_usage_exits_2(argv, tracking_store, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2


def test_an_unreachable_tracking_server_fails_with_one_line_naming_it(capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    code, _, err = run_cli(capsys, "--tracking-uri", uri, "current")
    assert code == 1 and time.monotonic() - started < 10
    [line] = err.splitlines()
    assert f"MLFLOW_TRACKING_URI={uri}" in line


def test_promote_help_says_challenger_is_not_gated(capsys):
    with pytest.raises(SystemExit):
        main(["promote", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "@challenger is not gated: it only shadow-scores" in help_text and "95% interval" in help_text


def test_the_module_runs_as_a_command(published, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "spam_service.models", "current"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["@champion: not set", "@challenger: not set"]
    assert not (tmp_path / "mlruns").exists()  # it used MLFLOW_TRACKING_URI's store
