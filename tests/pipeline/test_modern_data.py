"""data/modern/modern_sms.tsv: the committed file is the generator's output, in the collection's format, with
both labels in the intended amounts, no copy of a probe or collection text, and cues shared by both labels."""

import importlib.util
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


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("generate_modern_sms", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the file runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture(scope="module")
def rows(generator):
    """(label, category, text) of the committed file: the generator's rows (the --check test keeps them equal)."""
    return generator.generate(forbidden=generator.forbidden_keys())


def test_both_labels_in_the_intended_amounts(modern, generator):
    counts = Counter(e.label for e in modern)
    low, high = 0.9 * generator.PER_LABEL, 1.1 * generator.PER_LABEL
    assert low <= counts["spam"] <= high and low <= counts["ham"] <= high


def test_the_rows_are_the_committed_file(modern, rows):
    assert [(label, text) for label, _, text in rows] == [(e.label, e.text) for e in modern]


def test_opted_in_promotions_are_spam_and_the_same_brands_transactional_texts_ham(generator, rows):
    """Marketing is spam even from a brand the user joined; that brand's order, points and receipt texts are ham."""
    categories = {c.name: c for c in (*generator.SPAM, *generator.HAM)}
    assert categories["promo_optin"].label == categories["promo_offer"].label == "spam"
    assert categories["brand_transactional"].label == "ham"
    labels_by_brand: dict[str, set[str]] = {}
    for label, category, text in rows:
        if category in ("promo_optin", "brand_transactional"):
            for brand in generator.MEMBER_BRANDS:
                if brand.lower() in text.lower():
                    labels_by_brand.setdefault(brand, set()).add(label)
    both = [brand for brand, labels in labels_by_brand.items() if labels == {"spam", "ham"}]
    assert len(both) >= len(generator.MEMBER_BRANDS) // 2, labels_by_brand  # a brand's name is no cue to the label


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
CUES |= {cue: (cue,) for cue in ("sign-in", "verif", "member", "points", "case", "renew", "donat", "new number")}
CUES |= {"reply to confirm": ("reply yes", "reply no", "reply y ", "reply c ")}
LINK_MARKS = ("http", "www.", ".com", ".in", ".uk", ".ly/", ".co/", ".gl/", ".gd/", ".at/", ".cc/", ".to/")


@pytest.mark.parametrize("cue", CUES)
def test_a_cue_of_modern_spam_appears_in_ham_too(modern, cue):
    """Links, money, codes and urgency are in both classes, so the model cannot learn one of them as the label."""
    counts = Counter(e.label for e in modern if any(part in e.text.lower() for part in CUES[cue]))
    assert counts["ham"] >= 3 and counts["spam"] >= 3, counts


def test_spam_without_a_link_is_common(modern):
    """Wrong-number openers, code requests and call-me scams carry no link, so a link cannot stand for the label."""
    spam = [e.text.lower() for e in modern if e.label == "spam"]
    linkless = [text for text in spam if not any(mark in text for mark in LINK_MARKS)]
    assert len(linkless) >= 0.2 * len(spam), len(linkless)
