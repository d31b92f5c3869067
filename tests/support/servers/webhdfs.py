"""A WebHDFS server for tests: the protocol of a namenode and a datanode, an in-memory file system, and faults.

It speaks what the `hdfs` package (and any WebHDFS client) speaks, over real HTTP on loopback:

- the namenode answers CREATE (PUT), APPEND (POST) and OPEN (GET) with `307 Temporary Redirect` to the datanode's
  port, whose host name is configurable (`datanode_host`) so that the unresolvable-datanode pitfall can be shown;
  it answers GETFILESTATUS, LISTSTATUS, GETFILEBLOCKLOCATIONS, MKDIRS, RENAME (PUT, `destination`), DELETE and
  TRUNCATE (POST, `newlength`) itself;
- the datanode takes the bytes (Content-Length or chunked) of CREATE (201) and APPEND (200) and serves OPEN;
- errors are `{"RemoteException": {"exception", "javaClassName", "message"}}` with the status Hadoop's
  `ExceptionHandler` gives them: 404 FileNotFoundException, 403 for other IOExceptions (AlreadyBeingCreated,
  RecoveryInProgress, FileAlreadyExists, Retriable), 400 IllegalArgumentException;
- one writer per file: an APPEND, CREATE or TRUNCATE of a file whose lease another write holds gets 403
  AlreadyBeingCreatedException, as HDFS answers a second writer.

Hadoop's own client (`webhdfs://` in Spark, tests/batch) asks for more than the `hdfs` package: GETFILEBLOCKLOCATIONS
when Spark plans its input splits (without it the client falls back to the private GET_BLOCK_LOCATIONS, whose
LocatedBlocks answer is not served here), and RENAME when a job commits its output (task attempts into place, then
the batch job's temporary directory to the output path). Both were added for it; OPEN with `offset`/`length`, the
307 redirects and the file statuses were enough as they were. It sends no GETHOMEDIRECTORY or GETDELEGATIONTOKEN
without Kerberos.

Faults on demand (`WebHdfsServer.faults`, or `POST /_test/faults` with the same fields as JSON):
`down` (connections refused or cut), `fail_next` requests answered with `fail_status`/`fail_exception`,
`delay` seconds before every answer (slow), `lease_conflicts` APPENDs refused with `lease_exception`,
`denied` path prefixes where writes get 403 AccessControlException (a permanent error), and `late_appends`:
the next APPENDs take their bytes and the lease but answer nothing, so the client times out; each lands later,
still holding the lease meanwhile (a second write gets AlreadyBeingCreatedException). It lands right after the
next GETFILESTATUS of its file has been answered with the length before it (HDFS reports a file under
construction without the block in flight), the worst moment for a client that re-measures and resends; or
after `late_append_max` seconds when nobody asks.

Run it alone: `python -m tests.support.servers.webhdfs --port 9870 --datanode-port 9864`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import posixpath
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

PREFIX = "/webhdfs/v1"
BLOCK_SIZE = 134217728  # as `blockSize` in file statuses: HDFS's default 128 MiB
JAVA_CLASSES = {
    "FileNotFoundException": "java.io.FileNotFoundException",
    "IllegalArgumentException": "java.lang.IllegalArgumentException",
    "FileAlreadyExistsException": "org.apache.hadoop.fs.FileAlreadyExistsException",
    "AlreadyBeingCreatedException": "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException",
    "RecoveryInProgressException": "org.apache.hadoop.hdfs.protocol.RecoveryInProgressException",
    "RetriableException": "org.apache.hadoop.ipc.RetriableException",
    "PathIsNotEmptyDirectoryException": "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException",
    "ParentNotDirectoryException": "org.apache.hadoop.fs.ParentNotDirectoryException",
    "AccessControlException": "org.apache.hadoop.security.AccessControlException",
    "HadoopIllegalArgumentException": "org.apache.hadoop.HadoopIllegalArgumentException",
    "IOException": "java.io.IOException",
}


class RemoteError(Exception):
    def __init__(self, status: int, exception: str, message: str) -> None:
        super().__init__(message)
        self.status, self.exception, self.message = status, exception, message

    def body(self) -> dict[str, Any]:
        java_class = JAVA_CLASSES.get(self.exception, f"org.apache.hadoop.{self.exception}")
        return {"RemoteException": {"exception": self.exception, "javaClassName": java_class, "message": self.message}}


@dataclass
class Faults:
    down: bool = False
    fail_next: int = 0
    fail_status: int = 503
    fail_exception: str = "RetriableException"
    delay: float = 0.0
    lease_conflicts: int = 0
    lease_exception: str = "AlreadyBeingCreatedException"
    denied: list[str] = field(default_factory=list)  # path prefixes: writes there get AccessControlException
    late_appends: int = 0
    late_append_max: float = 5.0


@dataclass
class Node:
    directory: bool
    owner: str
    data: bytearray = field(default_factory=bytearray)
    modified: float = field(default_factory=time.time)

    def status(self, suffix: str = "") -> dict[str, Any]:
        millis = int(self.modified * 1000)
        return {
            "accessTime": millis if not self.directory else 0,
            "blockSize": 0 if self.directory else BLOCK_SIZE,
            "childrenNum": 0,
            "fileId": id(self) % 10**9,
            "group": "supergroup",
            "length": 0 if self.directory else len(self.data),
            "modificationTime": millis,
            "owner": self.owner,
            "pathSuffix": suffix,
            "permission": "755" if self.directory else "644",
            "replication": 0 if self.directory else 1,
            "storagePolicy": 0,
            "type": "DIRECTORY" if self.directory else "FILE",
        }


class FileSystem:
    """The namespace, guarded by one lock; leases mark files with a write in progress."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.nodes: dict[str, Node] = {"/": Node(directory=True, owner="hdfs")}
        self.leases: set[str] = set()
        self.late: dict[str, tuple[Node, bytes, threading.Event]] = {}  # path -> an append that lands later

    def land_late_append(self, path: str) -> None:
        """Append the bytes of `path`'s late append, if one waits, and free its lease (under `lock`)."""
        late = self.late.pop(path, None)
        if late is not None:
            node, body, landed = late
            node.data.extend(body)
            node.modified = time.time()
            self.leases.discard(path)
            landed.set()

    def get(self, path: str) -> Node:
        node = self.nodes.get(path)
        if node is None:
            raise RemoteError(404, "FileNotFoundException", f"File does not exist: {path}")
        return node

    def mkdirs(self, path: str, owner: str) -> None:
        parts = [p for p in path.split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            node = self.nodes.get(current)
            if node is None:
                self.nodes[current] = Node(directory=True, owner=owner)
            elif not node.directory:
                raise RemoteError(403, "ParentNotDirectoryException", f"Parent path is not a directory: {current}")

    def rename(self, source: str, destination: str) -> bool:
        """HDFS's rename (under `lock`): into `destination` when it is a directory; False (nothing moved) when the
        source is missing or under its own destination, or the target exists or lacks a parent directory."""
        if source == "/" or source not in self.nodes:
            return False
        target = destination
        if target in self.nodes and self.nodes[target].directory:
            target = posixpath.join(target, posixpath.basename(source))
        parent = self.nodes.get(posixpath.dirname(target))
        if target in self.nodes or parent is None or not parent.directory or target.startswith(source + "/"):
            return False
        moved = [p for p in self.nodes if p == source or p.startswith(source + "/")]
        for old in moved:
            new = target + old[len(source) :]
            self.nodes[new] = self.nodes.pop(old)
            if old in self.leases:
                self.leases.discard(old)
                self.leases.add(new)
        return True

    def children(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted(p for p in self.nodes if p.startswith(prefix) and "/" not in p[len(prefix) :] and p != "/")

    def read(self, path: str) -> bytes:
        with self.lock:
            node = self.get(path)
            if node.directory:
                raise RemoteError(404, "FileNotFoundException", f"Path is not a file: {path}")
            return bytes(node.data)


def normalize(path: str) -> str:
    normalized = posixpath.normpath("/" + unquote(path).lstrip("/"))
    return "/" if normalized in ("", ".") else normalized


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections
    # Headers and body go in two writes: with Nagle's algorithm the body waits for the client's delayed ACK
    # (40 ms a response on Linux).
    disable_nagle_algorithm = True
    server: _NodeServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read their own output
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        url = urlsplit(self.path)
        if url.path == "/_test/faults":
            self._control(method)
            return
        if owner.faults.down:
            self._cut()
            return
        if owner.faults.delay:
            time.sleep(owner.faults.delay)
        try:
            body = self._read_body()
            query = {k.lower(): v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            op = query.get("op", "").upper()
            if not url.path.startswith(PREFIX):
                raise RemoteError(404, "FileNotFoundException", f"no such resource {url.path}")
            path = normalize(url.path[len(PREFIX) :])
            owner.record(self.server.role, method, op, path)
            if owner.take_failure():
                raise RemoteError(owner.faults.fail_status, owner.faults.fail_exception, "injected failure")
            if self.server.role == "namenode":
                self._namenode(method, op, path, query)
            else:
                self._datanode(method, op, path, query, body)
        except RemoteError as error:
            self._json(error.status, error.body())
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _namenode(self, method: str, op: str, path: str, query: dict[str, str]) -> None:
        owner, fs = self.server.owner, self.server.owner.fs
        user = query.get("user.name", "webhdfs")
        redirects = {("PUT", "CREATE"), ("POST", "APPEND"), ("GET", "OPEN")}
        if (method, op) in redirects:
            with fs.lock:
                if op in ("APPEND", "OPEN"):
                    fs.get(path)
            location = (
                f"http://{owner.datanode_host}:{owner.datanode_port}{PREFIX}{quote(path)}?{urlsplit(self.path).query}"
            )
            self._empty(HTTPStatus.TEMPORARY_REDIRECT, {"Location": location})
        elif (method, op) == ("GET", "GETFILESTATUS"):
            with fs.lock:
                status = fs.get(path).status()
                fs.land_late_append(path)  # after the length was taken: the client cannot have seen it land
            self._json(200, {"FileStatus": status})
        elif (method, op) == ("GET", "LISTSTATUS"):
            with fs.lock:
                node = fs.get(path)
                entries = (
                    [fs.nodes[c].status(c.rsplit("/", 1)[1]) for c in fs.children(path)]
                    if node.directory
                    else [node.status()]
                )
            self._json(200, {"FileStatuses": {"FileStatus": entries}})
        elif (method, op) == ("GET", "GETFILEBLOCKLOCATIONS"):
            # Hadoop's client (Spark's file listing) asks where each block is to plan its splits.
            with fs.lock:
                node = fs.get(path)
                if node.directory:
                    raise RemoteError(404, "FileNotFoundException", f"Path is not a file: {path}")
                size = len(node.data)
            offset = int(query.get("offset", 0) or 0)
            length = int(query["length"]) if query.get("length") else size - offset
            self._json(200, {"BlockLocations": {"BlockLocation": owner.block_locations(size, offset, length)}})
        elif (method, op) == ("PUT", "MKDIRS"):
            with fs.lock:
                fs.mkdirs(path, user)
            self._json(200, {"boolean": True})
        elif (method, op) == ("DELETE", "DELETE"):
            recursive = query.get("recursive", "false").lower() == "true"
            with fs.lock:
                if path not in fs.nodes:
                    self._json(200, {"boolean": False})
                    return
                doomed = [p for p in fs.nodes if p == path or p.startswith(path.rstrip("/") + "/")]
                if len(doomed) > 1 and not recursive:
                    message = f"`{path} is non empty': Directory is not empty"
                    raise RemoteError(403, "PathIsNotEmptyDirectoryException", message)
                for p in doomed:
                    if p != "/":
                        del fs.nodes[p]
            self._json(200, {"boolean": True})
        elif (method, op) == ("PUT", "RENAME"):
            destination = normalize(query.get("destination", ""))
            owner.check_write_allowed(path, user)
            owner.check_write_allowed(destination, user)
            with fs.lock:
                self._json(200, {"boolean": fs.rename(path, destination)})
        elif (method, op) == ("POST", "TRUNCATE"):
            owner.check_write_allowed(path, user)
            new_length = int(query.get("newlength", "-1") or -1)
            with fs.lock:
                node = fs.get(path)
                if node.directory:
                    raise RemoteError(404, "FileNotFoundException", f"Path is not a file: {path}")
                if path in fs.leases:
                    message = f"Failed to TRUNCATE_FILE {path} because this file lease is currently owned by another"
                    raise RemoteError(403, "AlreadyBeingCreatedException", message + " client")
                if not 0 <= new_length <= len(node.data):
                    message = f"Cannot truncate to a larger file size. Current size: {len(node.data)}"
                    raise RemoteError(400, "HadoopIllegalArgumentException", f"{message}, truncate size: {new_length}.")
                del node.data[new_length:]
                node.modified = time.time()
            self._json(200, {"boolean": True})  # true: done at once (HDFS may answer false and recover the block)
        else:
            message = f'Invalid value for webhdfs parameter "op": {op or "(none)"} with {method}'
            raise RemoteError(400, "IllegalArgumentException", message)

    def _datanode(self, method: str, op: str, path: str, query: dict[str, str], body: bytes) -> None:
        owner, fs = self.server.owner, self.server.owner.fs
        user = query.get("user.name", "webhdfs")
        if (method, op) == ("GET", "OPEN"):
            data = fs.read(path)
            offset = int(query.get("offset", 0) or 0)
            length = int(query["length"]) if query.get("length") else len(data) - offset
            self._bytes(200, data[offset : offset + length])
            return
        if (method, op) not in (("PUT", "CREATE"), ("POST", "APPEND")):
            raise RemoteError(400, "IllegalArgumentException", f"datanode does not serve {method} op={op}")
        owner.check_write_allowed(path, user)
        if op == "APPEND" and owner.take_lease_conflict():
            message = f"Failed to APPEND_FILE {path}: the lease is held by another client"
            raise RemoteError(403, owner.faults.lease_exception, message)
        with fs.lock:
            if path in fs.leases:
                message = f"Failed to APPEND_FILE {path} because this file lease is currently owned by another client"
                raise RemoteError(403, "AlreadyBeingCreatedException", message)
            if op == "CREATE":
                existing = fs.nodes.get(path)
                overwrite = query.get("overwrite", "false").lower() == "true"
                if existing is not None and (existing.directory or not overwrite):
                    raise RemoteError(403, "FileAlreadyExistsException", f"{path} already exists")
                fs.mkdirs(posixpath.dirname(path), user)
                fs.nodes[path] = Node(directory=False, owner=user)
            node = fs.get(path)
            if node.directory:
                raise RemoteError(404, "FileNotFoundException", f"Path is not a file: {path}")
            fs.leases.add(path)
            late = op == "APPEND" and owner.take_late_append()
            if late:
                landed = threading.Event()
                fs.late[path] = (node, body, landed)
        if late:
            # No answer until it has landed: the client gives up first; the bytes land anyway.
            if not landed.wait(owner.faults.late_append_max):
                with fs.lock:
                    fs.land_late_append(path)
            self._empty(HTTPStatus.OK)
            return
        try:
            # Data lands in pieces while the lease is held, as packets do; a writer arriving now is refused.
            if owner.write_delay:
                time.sleep(owner.write_delay)
            with fs.lock:
                node.data.extend(body)
                node.modified = time.time()
        finally:
            with fs.lock:
                fs.leases.discard(path)
        if op == "CREATE":
            self._empty(HTTPStatus.CREATED, {"Location": f"hdfs://{owner.host}:{owner.port}{quote(path)}"})
        else:
            self._empty(HTTPStatus.OK)

    def _control(self, method: str) -> None:
        owner = self.server.owner
        if method == "POST":
            changes = json.loads(self._read_body() or b"{}")
            unknown = set(changes) - set(asdict(Faults()))
            if unknown:
                self._json(400, {"error": f"unknown faults {sorted(unknown)}"})
                return
            owner.set_faults(**changes)
        self._json(200, asdict(owner.faults))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _cut(self) -> None:
        """Drop the connection without an answer, as a dead node does to a kept-alive connection."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _bytes(self, status: int, data: bytes) -> None:
        self._send(status, data, {"Content-Type": "application/octet-stream"})

    def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self._send(status, b"", headers or {})


class _NodeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], role: str, owner: WebHdfsServer) -> None:
        self.role, self.owner = role, owner
        super().__init__(address, _Handler)


class WebHdfsServer:
    """A namenode and a datanode on two loopback ports sharing one in-memory file system.

    `port=0` / `datanode_port=0` pick free ports. `datanode_host` is the host name put in redirects.
    `write_delay` holds each write's lease that long (to provoke concurrent-writer conflicts).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        datanode_port: int = 0,
        *,
        datanode_host: str | None = None,
        write_delay: float = 0.0,
    ) -> None:
        self.host = host
        self.fs = FileSystem()
        self.faults = Faults()
        self.write_delay = write_delay
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, str, str]] = []  # (role, method, op, path)
        self._servers: list[tuple[_NodeServer, threading.Thread]] = []
        self.port, self.datanode_port = port, datanode_port
        self.datanode_host = datanode_host or host

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> WebHdfsServer:
        namenode = _NodeServer((self.host, self.port), "namenode", self)
        datanode = _NodeServer((self.host, self.datanode_port), "datanode", self)
        self.port, self.datanode_port = namenode.server_address[1], datanode.server_address[1]
        for server in (namenode, datanode):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            self._servers.append((server, thread))
        return self

    def stop(self) -> None:
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers.clear()

    def go_down(self) -> None:
        """Refuse new connections and cut kept-alive ones, like a stopped HDFS."""
        self.set_faults(down=True)
        self.stop()

    def come_up(self) -> None:
        self.start()
        self.set_faults(down=False)

    def set_faults(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self.faults, name, value)

    def take_failure(self) -> bool:
        with self._lock:
            if self.faults.fail_next > 0:
                self.faults.fail_next -= 1
                return True
            return False

    def take_late_append(self) -> bool:
        with self._lock:
            if self.faults.late_appends > 0:
                self.faults.late_appends -= 1
                return True
            return False

    def check_write_allowed(self, path: str, user: str) -> None:
        with self._lock:
            denied = [prefix for prefix in self.faults.denied if path.startswith(normalize(prefix))]
        if denied:
            message = f'Permission denied: user={user}, access=WRITE, inode="{denied[0]}"'
            raise RemoteError(403, "AccessControlException", message)

    def block_locations(self, size: int, offset: int, length: int) -> list[dict[str, Any]]:
        """The blocks of a file of `size` bytes that overlap [offset, offset + length), all on the one datanode."""
        datanode = f"{self.datanode_host}:{self.datanode_port}"
        blocks = []
        for start in range(0, size, BLOCK_SIZE):
            block_length = min(BLOCK_SIZE, size - start)
            if start < offset + length and offset < start + block_length:
                blocks.append(
                    {
                        "cachedHosts": [],
                        "corrupt": False,
                        "hosts": [self.datanode_host],
                        "length": block_length,
                        "names": [datanode],
                        "offset": start,
                        "storageTypes": ["DISK"],
                        "topologyPaths": [f"/default-rack/{datanode}"],
                    }
                )
        return blocks

    def take_lease_conflict(self) -> bool:
        with self._lock:
            if self.faults.lease_conflicts > 0:
                self.faults.lease_conflicts -= 1
                return True
            return False

    def record(self, role: str, method: str, op: str, path: str) -> None:
        with self._lock:
            self.requests.append((role, method, op, path))

    # Reading and laying out the file system from a test.
    def put_file(self, path: str, data: bytes, owner: str = "hdfs") -> None:
        """Create (or replace) a file with `data`, and its parent directories, as if a client had written it."""
        path = normalize(path)
        with self.fs.lock:
            self.fs.mkdirs(posixpath.dirname(path), owner)
            self.fs.nodes[path] = Node(directory=False, owner=owner, data=bytearray(data))

    def read(self, path: str) -> bytes:
        return self.fs.read(normalize(path))

    def files(self, under: str = "/") -> dict[str, bytes]:
        prefix = normalize(under).rstrip("/") + "/"
        with self.fs.lock:
            return {
                p: bytes(n.data) for p, n in sorted(self.fs.nodes.items()) if not n.directory and p.startswith(prefix)
            }

    def owner_of(self, path: str) -> str:
        with self.fs.lock:
            return self.fs.get(normalize(path)).owner

    def __enter__(self) -> WebHdfsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="WebHDFS test server (namenode + datanode, in memory).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9870, help="namenode HTTP port")
    parser.add_argument("--datanode-port", type=int, default=9864)
    parser.add_argument("--datanode-host", default=None, help="host name put in redirects (default: --host)")
    args = parser.parse_args()
    server = WebHdfsServer(args.host, args.port, args.datanode_port, datanode_host=args.datanode_host).start()
    print(f"WebHDFS test server: namenode {server.url}, datanode port {server.datanode_port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
