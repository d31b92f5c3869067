"""data/modern/modern_sms.tsv: the committed file is the generator's output, in the collection's format, with
both labels in the intended amounts, no copy of a probe or collection text, and cues shared by both labels."""

import os
import subprocess
import sys
from collections import Counter

import pytest

from spam_service.model.labels import LABELS
from spam_service.pipeline.dataset import dedup_key, read_collection
from spam_service.pipeline.paths import PROBE_PATH, modern_collection, raw_collection
from tests.support import REPO_ROOT

GENERATOR = REPO_ROOT / "scripts" / "generate_modern_sms.py"
MODERN = REPO_ROOT / modern_collection(REPO_ROOT / "params.yaml")


def run_generator(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120
    )


@pytest.fixture(scope="module")
def modern():
    return read_collection(MODERN)


def test_the_committed_tsv_is_what_the_generator_writes():
    result = run_generator("--check")
    assert result.returncode == 0, result.stderr


def test_check_mode_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "modern_sms.tsv"
    lines = MODERN.read_text(encoding="utf-8").splitlines(keepends=True)
    stale.write_text("".join(lines[:-1]), encoding="utf-8")  # one message short
    result = run_generator("--check", "--output", str(stale))
    assert result.returncode == 1 and "stale" in result.stderr


def test_the_file_has_the_collections_format():
    content = MODERN.read_bytes()
    assert b"\r" not in content and content.endswith(b"\n")
    for line in content.decode("utf-8").splitlines():
        label, text = line.split("\t")  # exactly one tab: none inside texts, no header
        assert label in LABELS and text == text.strip() and text


def test_both_labels_in_the_intended_amounts(modern):
    counts = Counter(e.label for e in modern)
    assert 1400 <= counts["spam"] <= 1800 and 1400 <= counts["ham"] <= 1800


def test_messages_are_distinct_and_none_copies_the_probe_or_the_collection(modern):
    keys = [dedup_key(e.text) for e in modern]
    assert len(set(keys)) == len(keys)
    probe = {dedup_key(e.text) for e in read_collection(REPO_ROOT / PROBE_PATH)}
    collection = {dedup_key(e.text) for e in read_collection(REPO_ROOT / raw_collection(REPO_ROOT / "params.yaml"))}
    assert not set(keys) & probe
    assert not set(keys) & collection


SHORTENERS = ("bit.ly/", "tinyurl.com/", "t.co/", "cutt.ly/", "is.gd/", "rb.gy/", "shorturl.at/", "tiny.cc/")
CUES = {"shortened link": SHORTENERS, **{cue: (cue,) for cue in ("http", "www.", "otp", "code", "urgent", "refund")}}
CUES |= {cue: (cue,) for cue in ("deliver", "kyc", "claim", "unpaid", "₹", "£", "$", "reply stop")}


@pytest.mark.parametrize("cue", CUES)
def test_a_cue_of_modern_spam_appears_in_ham_too(modern, cue):
    """Links, money, codes and urgency are in both classes, so the model cannot learn one of them as the label."""
    counts = Counter(e.label for e in modern if any(part in e.text.lower() for part in CUES[cue]))
    assert counts["ham"] >= 3 and counts["spam"] >= 3, counts
