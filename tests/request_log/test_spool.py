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


def test_reading_a_region_without_a_newline_ends_empty_instead_of_recursing(tmp_path):
    """A claimed spool whose bytes hold no newline (a segment cut mid-line, then an empty one): nothing whole to
    send. Before, `read` doubled its size and called itself for ever (RecursionError in the shipper)."""
    spool_dir = tmp_path / f"{NAME}.spool"
    spool_dir.mkdir(parents=True)
    (spool_dir / f"{0:020d}.seg").write_bytes(b'{"n":1,"cut":"mid-li')
    (spool_dir / f"{20:020d}.seg").write_bytes(b"")
    [target] = Spool(tmp_path).claim_orphans()
    spool = Spool(tmp_path)
    assert spool.read(target, 0, 4) == b""
    assert spool.read_raw(target, 0, 100) == b'{"n":1,"cut":"mid-li'


OTHER_DAY = "date=2026-11-24/host-1-abcd.jsonl"


def test_a_finished_file_written_to_again_continues_at_its_end_not_at_zero(tmp_path):
    """A clock stepping back across midnight: lines for a day whose file was finished, and even fully shipped."""
    spool = Spool(tmp_path, segment_bytes=100)
    spool.write([(NAME, line(n)) for n in range(3)])
    spool.write([(OTHER_DAY, line(3))])  # a new day: NAME is finished
    target = next(t for t in spool.targets() if t.name == NAME)
    assert not target.active and target.end == 180
    spool.shipped(target, 180, 3)  # all in HDFS: every segment but the last goes
    spool.write([(NAME, line(4))])  # the clock stepped back
    assert (target.start, target.end) == (120, 240) and target.active
    assert spool.read(target, 180, 1000) == line(4)
    spool.release_all()


def test_a_removed_file_written_to_again_continues_where_it_ended(tmp_path):
    spool = Spool(tmp_path, segment_bytes=100)
    spool.write([(NAME, line(n)) for n in range(3)])
    spool.write([(OTHER_DAY, line(3))])
    old = next(t for t in spool.targets() if t.name == NAME)
    spool.shipped(old, 180, 3)
    assert spool.forget_if_done(old) and not (tmp_path / f"{NAME}.spool").exists()
    spool.write([(NAME, line(4))])  # lines for that day again: a new spool directory, at the HDFS file's end
    new = next(t for t in spool.targets() if t.name == NAME)
    assert (new.start, new.end) == (180, 240) and new.remote_length is None
    assert sorted(p.name for p in (tmp_path / f"{NAME}.spool").glob("*.seg")) == [f"{180:020d}.seg"]
    spool.release_all()


def test_a_batch_across_midnight_keeps_both_days_open_and_the_next_one_finishes_the_older(tmp_path):
    spool = Spool(tmp_path)
    spool.write([(NAME, line(0))])
    [target] = spool.targets()
    spool.shipped(target, 60, 1)
    spool.write([(NAME, line(1)), (OTHER_DAY, line(2)), (NAME, line(3))])
    assert target.active and target.end == 180 and target.lines_stored == 2
    spool.write([(OTHER_DAY, line(4))])
    assert not target.active and target.end == 180
    assert not spool.forget_if_done(target)  # HDFS has 60 of its 180 bytes
    spool.shipped(target, 180, 2)
    assert spool.forget_if_done(target)
    spool.release_all()


def test_an_empty_spool_directory_left_behind_is_removed_not_claimed(tmp_path):
    (tmp_path / f"{NAME}.spool").mkdir(parents=True)
    assert Spool(tmp_path).claim_orphans() == []
    assert not (tmp_path / "date=2026-11-23").exists()
