"""A thin wrapper around the `hdfs` package (WebHDFS): the few calls the request log needs, and errors a user can act
on instead of HdfsError / requests exceptions.

WebHDFS sends CREATE and APPEND to the namenode, which answers 307 with a datanode URL, and the client sends the
bytes there. The datanode URL carries the datanode's own host name: when the service cannot resolve it (the usual
Docker failure: the namenode says `http://datanode:9864/...` or a container id), every write fails while metadata
calls work. `datanode_rewrites` maps such a host:port to one the service can reach.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from spam_service.errors import SpamServiceError, StartupError, first_line

if TYPE_CHECKING:
    import requests
    from hdfs import InsecureClient

# RemoteExceptions that clear up by themselves: waiting and retrying is the fix.
TRANSIENT_EXCEPTIONS = frozenset(
    {
        "AlreadyBeingCreatedException",  # another writer (often our own previous, crashed one) holds the lease
        "RecoveryInProgressException",  # the namenode is recovering that lease
        "RetriableException",
        "StandbyException",
        "SafeModeException",
        "LeaseExpiredException",
    }
)


@cache
def _client_class() -> type[InsecureClient]:
    """`InsecureClient` plus TRUNCATE, declared the way the `hdfs` package declares its own raw endpoints (its
    metaclass turns `_truncate` into `POST ...?op=TRUNCATE`, with its error translation and its retries)."""
    from hdfs import InsecureClient
    from hdfs.client import _Request

    class TruncatingClient(InsecureClient):
        _truncate = _Request("POST")

    return TruncatingClient


class HdfsError(SpamServiceError):
    """A WebHDFS call failed; `transient` says whether retrying later can succeed without anyone acting."""

    def __init__(self, message: str, *, transient: bool, exception: str | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.exception = exception


class HdfsLocationError(StartupError):
    """The HDFS location handed to the service (by Vault, say) is incomplete or malformed."""


@dataclass(frozen=True)
class HdfsLocation:
    """Where the namenode's WebHDFS answers, and as whom to write."""

    host: str
    port: int
    user: str | None = None

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}"

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any], source: str) -> HdfsLocation:
        """Read `host`, `port` and optionally `user` from a secret's data; `source` names it in errors.

        Values never appear in the errors (a secret may hold more than the location)."""
        missing_keys = [key for key in ("host", "port") if not str(secret.get(key) or "").strip()]
        if missing_keys:
            present = ", ".join(sorted(secret)) or "none"
            raise HdfsLocationError(
                f"{source} lacks {' and '.join(repr(k) for k in missing_keys)} (keys present: {present}): "
                "it needs host, port and optionally user"
            )
        port_text = str(secret["port"]).strip()
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise HdfsLocationError(f"{source}: 'port' is not a port number (1-65535); fix the secret")
        user = str(secret.get("user") or "").strip() or None
        return cls(host=str(secret["host"]).strip(), port=int(port_text), user=user)


class HdfsFiles:
    """Create, append to, measure, read and truncate files over WebHDFS. Does no I/O until a method is called."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        timeout: float = 10.0,
        datanode_rewrites: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        import requests

        self.url = url.rstrip("/")
        self.user = user
        self._rewrites = dict(datanode_rewrites or {})
        self._session = session or requests.Session()
        if self._rewrites:
            self._session.hooks["response"].append(self._rewrite_redirect)
        self._client: InsecureClient = _client_class()(self.url, user=user, timeout=timeout, session=self._session)

    def __repr__(self) -> str:
        return f"HdfsFiles(url={self.url!r}, user={self.user!r})"

    def length(self, path: str) -> int | None:
        """The file's length in bytes, or None when it does not exist."""
        try:
            status = self._call(self._client.status, path)
        except HdfsError as error:
            if error.exception == "FileNotFoundException":
                return None
            raise
        return int(status["length"])

    def create(self, path: str, data: bytes) -> None:
        """Create `path` (and its parent directories) holding `data`; fails if it exists."""
        self._call(self._client.write, path, data=data, overwrite=False)

    def append(self, path: str, data: bytes) -> None:
        self._call(self._client.write, path, data=data, append=True)

    def read(self, path: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes of `path` from `offset` (fewer where the file ends sooner)."""

        def read_range() -> bytes:
            with self._client.read(path, offset=offset, length=length) as reader:
                return reader.read()

        return self._call(read_range)

    def truncate(self, path: str, length: int) -> bool:
        """Cut `path` to `length` bytes. False when HDFS finishes it in the background (block recovery: until
        then, writes to the file fail with RecoveryInProgressException, a transient error)."""
        response = self._call(self._client._truncate, path, newlength=length)
        return bool(response.json().get("boolean"))

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import requests
        from hdfs.util import HdfsError as ClientError

        try:
            return method(*args, **kwargs)
        except ClientError as error:
            exception = getattr(error, "exception", None)
            transient = exception in TRANSIENT_EXCEPTIONS or exception is None
            raise HdfsError(
                f"{exception or 'error'}: {first_line(error)}", transient=transient, exception=exception
            ) from error
        except requests.exceptions.ConnectionError as error:
            raise HdfsError(self._describe_connection_error(error), transient=True) from error
        except requests.exceptions.Timeout as error:
            raise HdfsError(f"WebHDFS at {self.url} did not answer in time", transient=True) from error
        except requests.exceptions.RequestException as error:
            raise HdfsError(f"WebHDFS request failed: {type(error).__name__}", transient=True) from error

    def _describe_connection_error(self, error: Exception) -> str:
        target = urlsplit(getattr(getattr(error, "request", None), "url", "") or self.url)
        where = f"{target.hostname}:{target.port}" if target.hostname else self.url
        if target.hostname and f"{target.hostname}:{target.port}" != urlsplit(self.url).netloc:
            return (
                f"cannot reach the datanode {where} that the namenode redirected to: make that host name resolvable "
                "from the service (Docker: give the datanode a fixed `hostname` on the service's network) or map "
                "it with HDFS_DATANODE_REWRITES"
            )
        return f"cannot connect to WebHDFS at {where}"

    def _rewrite_redirect(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        location = response.headers.get("location")
        if response.is_redirect and location:
            parts = urlsplit(location)
            replacement = self._rewrites.get(parts.netloc)
            if replacement:
                response.headers["location"] = urlunsplit(parts._replace(netloc=replacement))
        return response
