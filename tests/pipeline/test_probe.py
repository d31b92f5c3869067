"""The shipped modern-SMS probe: its size, balance and independence from the collection the models train on."""

from collections import Counter

import pytest

from spam_service.pipeline.dataset import Example, dedup_key, read_collection
from spam_service.pipeline.paths import PROBE_PATH
from tests.support import REPO_ROOT

PROBE = REPO_ROOT / PROBE_PATH
COLLECTION = REPO_ROOT / "data" / "raw" / "SMSSpamCollection"


@pytest.fixture(scope="module")
def probe() -> list[Example]:
    return read_collection(PROBE)


def test_every_line_is_one_labelled_message(probe):
    raw = PROBE.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")  # LF only: a CR would end up inside the text
    lines = raw.decode("utf-8").splitlines()
    assert len(probe) == len(lines)  # read_collection skips blank lines: none may hide in the file
    assert all(e.text and e.text == e.text.strip() for e in probe)


def test_the_probe_holds_at_least_400_messages_of_each_label(probe):
    # 400 of a label put one message at 0.0025 of that label's rate (0.25 points), the figure data/probe/README.md
    # states; the two labels stay balanced so that neither rate is the noisier one
    counts = Counter(e.label for e in probe)
    assert set(counts) == {"spam", "ham"}
    assert len(probe) >= 800 and min(counts.values()) >= 400
    assert abs(counts["spam"] - counts["ham"]) <= 20


def test_no_message_is_a_copy_of_another(probe):
    copies = [key for key, n in Counter(dedup_key(e.text) for e in probe).items() if n > 1]
    assert not copies


def test_no_message_is_in_the_collection_the_models_train_on(probe):
    # a probe message also in the collection could be in training, and the probe would measure memory
    collection = {dedup_key(e.text) for e in read_collection(COLLECTION)}
    assert [e.text for e in probe if dedup_key(e.text) in collection] == []
