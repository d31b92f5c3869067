"""Spool: batches are all or nothing, offsets stay exact, and a dead writer's files can be claimed."""

from spam_service.request_log.spool import Spool

NAME = "date=2026-11-23/host-1-abcd.jsonl"


def line(n: int) -> bytes:
    return f'{{"n":{n:03d},"pad":"{"x" * 41}"}}\n'.encode()  # 60 bytes


def test_a_batch_that_fails_midway_leaves_the_spool_as_it_was(tmp_path):
    spool = Spool(tmp_path, segment_bytes=100)
    spool.write([(NAME, line(0))])
    [target] = spool.targets()
    # A directory where the next segment file must go: the batch fails after writing into the first segment.
    blocker = target.directory / f"{120:020d}.seg"
    blocker.mkdir()
    batch = [(NAME, line(n)) for n in (1, 2, 3)]
    try:
        spool.write(batch)
    except OSError:
        pass
    else:
        raise AssertionError("the blocked segment should have failed the batch")
    assert [(s.offset, s.size) for s in target.segments] == [(0, 60)]
    assert (target.directory / f"{0:020d}.seg").read_bytes() == line(0)
    blocker.rmdir()
    spool.write(batch)  # the journal's retry
    assert [(s.offset, s.size) for s in target.segments] == [(0, 120), (120, 120)]
    assert spool.read(target, 0, 1000) == b"".join(line(n) for n in range(4))
    assert spool.read(target, 60, 70) == line(1)  # whole lines only, from an exact offset
    spool.release_all()


def test_shipped_sealed_segments_are_deleted_and_a_dead_writers_files_are_claimed(tmp_path):
    writer = Spool(tmp_path, segment_bytes=100)
    writer.write([(NAME, line(n)) for n in range(5)])
    [target] = writer.targets()
    writer.shipped(target, 120, 2)  # HDFS holds the first segment
    assert [s.offset for s in target.segments] == [120, 240]
    other = Spool(tmp_path)
    assert other.claim_orphans() == []  # the writer still holds the lock
    writer.release_all()  # the writer goes away (a crash releases the flock the same way)
    [claimed] = other.claim_orphans()
    assert claimed.name == NAME and (claimed.start, claimed.end) == (120, 300)
    assert claimed.lines_stored == 3
    assert other.read(claimed, 120, 1000) == b"".join(line(n) for n in (2, 3, 4))
    other.shipped(claimed, 300, 3)
    assert other.forget_if_done(claimed)
    assert not any(tmp_path.rglob("*.seg"))
