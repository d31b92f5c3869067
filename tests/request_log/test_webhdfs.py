"""HdfsFiles over real WebHDFS (the test server): the calls, and errors translated into actionable ones."""

import pytest

from spam_service.request_log.webhdfs import HdfsError, HdfsFiles
from tests.support.servers.webhdfs import WebHdfsServer


def test_create_append_and_length_go_through_the_datanode_redirect(webhdfs):
    files = HdfsFiles(webhdfs.url, user="svc")
    assert files.length("/logs/a.jsonl") is None
    files.create("/logs/a.jsonl", b"one\n")
    files.append("/logs/a.jsonl", "twö\n".encode())
    assert files.length("/logs/a.jsonl") == len("one\ntwö\n".encode())
    assert webhdfs.read("/logs/a.jsonl") == "one\ntwö\n".encode()
    assert webhdfs.owner_of("/logs/a.jsonl") == "svc"
    datanode_writes = [r for r in webhdfs.requests if r[0] == "datanode"]
    assert [(r[1], r[2]) for r in datanode_writes] == [("PUT", "CREATE"), ("POST", "APPEND")]


def test_creating_an_existing_file_is_refused(webhdfs):
    files = HdfsFiles(webhdfs.url)
    files.create("/x", b"1\n")
    with pytest.raises(HdfsError) as caught:
        files.create("/x", b"2\n")
    assert caught.value.exception == "FileAlreadyExistsException" and not caught.value.transient


@pytest.mark.parametrize("exception", ["AlreadyBeingCreatedException", "RecoveryInProgressException"])
def test_lease_conflicts_are_transient(webhdfs, exception):
    files = HdfsFiles(webhdfs.url)
    files.create("/x", b"1\n")
    webhdfs.set_faults(lease_conflicts=1, lease_exception=exception)
    with pytest.raises(HdfsError) as caught:
        files.append("/x", b"2\n")
    assert caught.value.transient and caught.value.exception == exception
    files.append("/x", b"2\n")  # the lease is free again
    assert webhdfs.read("/x") == b"1\n2\n"


def test_server_errors_and_an_unreachable_namenode_are_transient(webhdfs):
    files = HdfsFiles(webhdfs.url, timeout=2)
    webhdfs.set_faults(fail_next=1, fail_status=503, fail_exception="RetriableException")
    with pytest.raises(HdfsError) as caught:
        files.length("/")
    assert caught.value.transient
    webhdfs.go_down()
    with pytest.raises(HdfsError, match=r"cannot connect to WebHDFS at 127\.0\.0\.1:\d+") as caught:
        files.length("/")
    assert caught.value.transient


def test_an_unresolvable_datanode_is_named_and_a_rewrite_fixes_it():
    # The namenode redirects to a host name the client cannot resolve: the usual Docker failure.
    with WebHdfsServer(datanode_host="datanode.invalid") as server:
        files = HdfsFiles(server.url, timeout=5)
        assert files.length("/") == 0  # metadata calls work: only the namenode is involved
        unreachable = r"cannot reach the datanode datanode\.invalid:\d+ .*HDFS_DATANODE_REWRITES"
        with pytest.raises(HdfsError, match=unreachable):
            files.create("/a", b"x\n")
        port = server.datanode_port
        rewritten = HdfsFiles(server.url, datanode_rewrites={f"datanode.invalid:{port}": f"127.0.0.1:{port}"})
        rewritten.create("/a", b"x\n")
        assert server.read("/a") == b"x\n"


def test_read_returns_a_range_and_truncate_cuts_the_file_back(webhdfs):
    files = HdfsFiles(webhdfs.url)
    files.create("/t", b"one\ntwo\nthree\n")
    assert files.read("/t", 4, 4) == b"two\n" and files.read("/t", 8, 100) == b"three\n"
    assert files.truncate("/t", 8) is True
    assert webhdfs.read("/t") == b"one\ntwo\n"
    with pytest.raises(HdfsError) as caught:
        files.truncate("/t", 100)  # longer than the file
    assert caught.value.exception == "HadoopIllegalArgumentException" and not caught.value.transient


def test_an_append_that_times_out_holds_the_lease_and_lands_after_the_next_status(webhdfs):
    files = HdfsFiles(webhdfs.url, timeout=0.5)
    files.create("/x", b"1\n")
    webhdfs.set_faults(late_appends=1)
    with pytest.raises(HdfsError, match="did not answer in time"):
        files.append("/x", b"2\n")
    for write in (lambda: files.append("/x", b"3\n"), lambda: files.truncate("/x", 0)):
        with pytest.raises(HdfsError) as caught:
            write()  # a second writer while the late append holds the lease
        assert caught.value.exception == "AlreadyBeingCreatedException" and caught.value.transient
    assert files.length("/x") == 2  # the length without it ...
    assert webhdfs.read("/x") == b"1\n2\n"  # ... and it has landed right after
    files.append("/x", b"3\n")
    assert webhdfs.read("/x") == b"1\n2\n3\n"


def test_writes_under_a_denied_path_fail_permanently(webhdfs):
    files = HdfsFiles(webhdfs.url, user="svc")
    webhdfs.set_faults(denied=["/locked"])
    with pytest.raises(HdfsError) as caught:
        files.create("/locked/a", b"x\n")
    assert caught.value.exception == "AccessControlException" and not caught.value.transient
    files.create("/open/a", b"x\n")
