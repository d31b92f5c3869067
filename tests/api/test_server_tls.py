"""HTTPS with TLS_CERT_FILE / TLS_KEY_FILE: a live service on a certificate from a CA made by the test, verified by
the client with that CA only; HSTS on every response; plain HTTP refused; a bad pair stops the start with a message
that names the variable to fix."""

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from spam_service.api.server import STRICT_TRANSPORT_SECURITY, TlsFilesError, server_config
from spam_service.settings import Settings
from tests.support.live_server import LiveServer, start_live_server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """Trusts the test's CA and nothing else (no system store): a pass proves the service presents that chain."""
    return ssl.create_default_context(cadata=ca.cert_pem.bytes().decode())


def write_pair(ca: trustme.CA, directory: Path, *hosts: str) -> tuple[Path, Path]:
    issued = ca.issue_cert(*hosts)
    cert_file, key_file = directory / "tls.crt", directory / "tls.key"
    cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key_file))
    return cert_file, key_file


@pytest.fixture
def https_service(make_app, ca: trustme.CA, client_context: ssl.SSLContext, tmp_path: Path) -> Iterator[LiveServer]:
    cert_file, key_file = write_pair(ca, tmp_path, "127.0.0.1", "localhost")
    app, _ = make_app(tls_cert_file=cert_file, tls_key_file=key_file)
    live = start_live_server(app, verify=client_context)
    yield live
    live.stop()


def test_the_service_answers_over_https_with_a_certificate_its_ca_verifies_and_hsts(https_service, client_context):
    assert https_service.url.startswith("https://")
    with httpx.Client(base_url=https_service.url, verify=client_context) as client:
        predicted = client.post("/predict", json={"text": ["WIN a prize! txt CLAIM now"]})
        refused = client.post("/predict", json={"text": [1]})
        missing = client.get("/no-such-route")
        health = client.get("/health")
    assert predicted.status_code == 200 and predicted.json()["predictions"]
    assert (refused.status_code, missing.status_code, health.status_code) == (422, 404, 200)
    for response in (predicted, refused, missing, health):
        assert response.headers.get_list("strict-transport-security") == [STRICT_TRANSPORT_SECURITY]


def test_the_connection_level_refusals_carry_hsts_too(https_service, client_context):
    # The 431 is written by the protocol itself, below the ASGI app the HSTS wrapper wraps.
    response = httpx.get(f"{https_service.url}/health", headers={"x-big": "a" * 40_000}, verify=client_context)
    assert response.status_code == 431
    assert response.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY


def test_a_client_that_does_not_trust_the_ca_is_refused_the_handshake(https_service):
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https_service.url}/health")  # the system's CAs only


def test_plain_http_to_the_tls_port_gets_no_answer(https_service, client_context):
    with pytest.raises(httpx.TransportError):
        httpx.get(https_service.url.replace("https://", "http://") + "/health", timeout=5)
    assert httpx.get(f"{https_service.url}/health", verify=client_context).status_code == 200  # still serving


def test_without_tls_the_service_speaks_plain_http_without_hsts(make_app):
    app, _ = make_app()
    live = start_live_server(app)
    try:
        response = httpx.get(f"{live.url}/health")
    finally:
        live.stop()
    assert live.url.startswith("http://") and response.status_code == 200
    assert "strict-transport-security" not in response.headers


async def no_app(scope, receive, send) -> None:
    raise AssertionError("the start must stop before any request")


def refusal(cert_file: Path, key_file: Path) -> str:
    with pytest.raises(TlsFilesError) as refused:
        server_config(no_app, Settings(tls_cert_file=cert_file, tls_key_file=key_file))
    message = str(refused.value)
    assert "\n" not in message  # one line for the start-up error
    return message


def test_a_missing_certificate_or_key_is_named(ca, tmp_path):
    cert_file, key_file = write_pair(ca, tmp_path, "localhost")
    assert refusal(tmp_path / "absent.crt", key_file).startswith(
        f"TLS_CERT_FILE {tmp_path / 'absent.crt'} cannot be read"
    )
    assert refusal(cert_file, tmp_path / "absent.key").startswith(
        f"TLS_KEY_FILE {tmp_path / 'absent.key'} cannot be read"
    )
    assert refusal(tmp_path, key_file).startswith("TLS_CERT_FILE")  # a directory


def test_a_certificate_with_another_certificates_key_is_refused(ca, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    cert_file, _ = write_pair(ca, tmp_path / "one", "localhost")
    _, other_key = write_pair(ca, tmp_path / "two", "localhost")
    message = refusal(cert_file, other_key)
    assert message.startswith(f"TLS_KEY_FILE {other_key} is not the private key of TLS_CERT_FILE {cert_file}")


def test_files_that_are_not_pem_are_named(ca, tmp_path):
    cert_file, key_file = write_pair(ca, tmp_path, "localhost")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a PEM file\n")
    assert refusal(garbage, key_file) == f"TLS_CERT_FILE {garbage} holds no PEM certificate"
    assert refusal(key_file, key_file) == f"TLS_CERT_FILE {key_file} holds no PEM certificate"  # swapped by mistake
    assert refusal(cert_file, garbage).startswith(f"TLS_KEY_FILE {garbage} holds no usable PEM private key")


def test_an_encrypted_key_is_refused_without_prompting_for_its_passphrase(ca, tmp_path):
    from cryptography.hazmat.primitives import serialization

    cert_file, key_file = write_pair(ca, tmp_path, "localhost")
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"a passphrase"),
        )
    )
    assert "encrypted key is not supported" in refusal(cert_file, key_file)
