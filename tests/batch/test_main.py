"""The command line: a summary line on success; on bad input one line on stderr, a non-zero status, no output."""

import json
from pathlib import Path

import pandas as pd
import pytest

from spam_service.batch.__main__ import main
from tests.support.samples import HAM, SPAM


@pytest.fixture
def texts_file(tmp_path: Path) -> Path:
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in [SPAM, HAM, "ok see you"]), encoding="utf-8")
    return path


def run(capsys, *argv: str) -> tuple[int, str, list[str]]:
    code = main([*argv, "--no-progress", "--master", "local[2]"])
    captured = capsys.readouterr()
    return code, captured.out, [line for line in captured.err.splitlines() if "spam_service.batch" in line]


def test_score_writes_the_output_and_prints_a_summary_line(spark, capsys, texts_file, trained_model_dir, tmp_path):
    output = tmp_path / "scored"
    code, out, errors = run(capsys, "score", "--input", str(texts_file), "--output", str(output))
    assert code == 0 and errors == []
    assert out.startswith("scored 3 rows (json) with spam-minilm") and f"output {output}" in out
    assert "texts/s" in out and "Spark start-up" in out
    scored = pd.read_parquet(output)
    assert dict(zip(scored["text"], scored["predicted_label"], strict=True)) == {
        SPAM: "spam",
        HAM: "ham",
        "ok see you": "ham",
    }
    assert not list(tmp_path.glob("scored.tmp-*"))


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["--input", "{tmp}/missing.jsonl"], 2, "--input {tmp}/missing.jsonl: no such file or directory"),
        (["--input", "{texts}", "--text-column", "body"], 2, "--text-column body: {texts} has no such column"),
        (["--input", "{texts}", "--model", "{tmp}"], 1, "no model at {tmp}/"),
        (["--input", "{texts}", "--model", "{broken}"], 1, "is broken"),
    ],
    ids=["missing-path", "missing-column", "not-a-model", "unreadable-model"],
)
def test_bad_input_is_one_line_a_non_zero_status_and_no_output(
    spark, capsys, texts_file, tmp_path, arguments, code, message
):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    values = {"tmp": str(tmp_path), "texts": str(texts_file), "broken": str(broken)}
    argv = [a.format(**values) for a in arguments]
    output = tmp_path / "out"
    returned, out, errors = run(capsys, "score", *argv, "--output", str(output))
    assert returned == code
    assert len(errors) == 1 and errors[0].startswith("python -m spam_service.batch: error: ")
    assert message.format(**values) in errors[0]
    assert out == ""
    assert not output.exists() and not list(tmp_path.glob("out.tmp-*"))


def test_an_existing_output_is_a_usage_error_and_is_kept(spark, capsys, texts_file, tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    code, _, errors = run(capsys, "score", "--input", str(texts_file), "--output", str(output))
    assert code == 2 and "exists already" in errors[0]
    assert output.is_dir() and not list(tmp_path.glob("out.tmp-*"))


def test_a_bad_option_is_argparses_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["score", "--input", "x"])  # no --output
    assert exited.value.code == 2
    assert "--output" in capsys.readouterr().err


def test_compare_prints_a_json_report_of_both_models(spark, capsys, trained_model_dir, tmp_path):
    labelled = tmp_path / "labelled.jsonl"
    rows = [{"text": SPAM, "label": "spam"}, {"text": HAM, "label": "ham"}, {"text": "ok see you", "label": "ham"}]
    labelled.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    model = str(trained_model_dir)
    argv = ["compare", "--input", str(labelled), "--champion", model, "--challenger", model]
    code, out, errors = run(capsys, *argv, "--challenger-backend", "onnx", "--label-column", "label")
    assert code == 0 and errors == []
    report = json.loads(out)
    assert report["texts"] == 3 and report["truth"] == "column label"
    assert (
        report["models"]["champion"]["backend"]
        == json.loads((trained_model_dir / "serving.json").read_text())["default_backend"]
    )
    assert report["models"]["challenger"]["backend"] == "onnx"
    assert report["models"]["champion"]["metrics"] == {
        "labelled": 3,
        "accuracy": 1.0,
        "spam_precision": 1.0,
        "spam_recall": 1.0,
    }
