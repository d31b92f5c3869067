"""Settings -> components -> `Services`: the only module that wires the service together.

`build_services` does everything that can fail at start-up (Vault login, reading where HDFS is, loading the model,
opening the request log and the prediction store) and raises `StartupError` with a one-line message; the HTTP app
(`spam_service.api.create_app`) only receives the result. Tests build `Services` from parts of their choosing.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import logging
import time
from dataclasses import dataclass, field

from spam_service.auth import Authenticator, JsonFileKeyStore, KeyStoreError
from spam_service.auth.key_store import KeyStore, VaultKeyStore
from spam_service.auth.rate_limits import RateLimits
from spam_service.errors import StartupError
from spam_service.model.batching import MicroBatcher
from spam_service.model.canary import canary_misses
from spam_service.model.classifier import SpamClassifier
from spam_service.model.loading import load_model, load_model_at_startup
from spam_service.model.shadow import ShadowScorer, build_shadow_scorer
from spam_service.model.swap import AliasWatcher, ModelSwapper
from spam_service.models.registry import ModelRegistry
from spam_service.observability.logging import flush_logs
from spam_service.observability.prometheus import QueueState, ServiceMetrics
from spam_service.prediction_store import PredictionStore
from spam_service.request_log import FileRequestLogSink, HdfsRequestLogSink, RequestLogSink
from spam_service.request_log.webhdfs import HdfsFiles, HdfsLocation
from spam_service.settings import Settings
from spam_service.supervision import ThreadStatus
from spam_service.vault import VaultSession

_logger = logging.getLogger(__name__)

# How long shutdown lets each store deliver what it holds before giving up (what is left stays in the spool, or in
# the request log for predictions). The deployments' grace periods cover these after uvicorn's drain
# (api.server.GRACEFUL_SHUTDOWN_TIMEOUT_S); tests/deploy/test_shutdown_budget.py checks.
PREDICTION_STORE_CLOSE_TIMEOUT_S = 10.0
REQUEST_LOG_CLOSE_TIMEOUT_S = 10.0
# How long shutdown waits for the challenger's batch in progress (at most SHADOW_BATCH_TEXTS texts).
SHADOW_STOP_TIMEOUT_S = 2.0


# How long shutdown waits for the alias watcher's thread. A swap it is loading is abandoned past it (a daemon thread
# that holds nothing to flush): shutdown's budget goes to the stores.
MODEL_WATCHER_STOP_TIMEOUT_S = 1.0


def load_classifier(settings: Settings) -> SpamClassifier:
    """The model MODEL_URI (else MODEL_DIR) names, with the engine and limits the settings choose, warmed up.
    A registry the service cannot reach is a `StartupError` naming MODEL_URI."""
    return load_model_at_startup("MODEL_URI", settings.model_source, settings)


def warn_of_canary_misses(classifier: SpamClassifier) -> None:
    """The start-up model is served whatever it says on the canary texts (it is what the operator chose, and there
    is no other to fall back to), but a model that would be refused as a swap is worth a warning."""
    misses = canary_misses(classifier)
    if misses:
        _logger.warning(
            "model %s %s mislabels %d canary texts (known spam and ham), e.g. %r; a swap to it would be refused",
            classifier.name,
            classifier.version,
            len(misses),
            misses[0].text,
        )


def locate_hdfs(settings: Settings) -> tuple[HdfsLocation | None, VaultSession | None]:
    """Where HDFS is: read from Vault when VAULT_ADDR is set (the logged-in session comes back too, to keep its
    token alive), else HDFS_HOST/HDFS_PORT; (None, None) when neither is set."""
    if settings.vault_addr:
        vault = VaultSession.from_settings(settings)
        vault.authenticate()
        secret = vault.read_secret(settings.vault_kv_mount, settings.vault_hdfs_secret_path)
        where = f"Vault secret {settings.vault_kv_mount}/{settings.vault_hdfs_secret_path}"
        location = HdfsLocation.from_secret(secret, where)
        _logger.info("vault: HDFS is at %s:%d", location.host, location.port)
        return location, vault
    if settings.hdfs_host:
        return HdfsLocation(settings.hdfs_host, settings.hdfs_port), None
    return None, None


def build_request_log(settings: Settings, location: HdfsLocation | None) -> RequestLogSink:
    """The HDFS sink when HDFS is located, else the local file sink. No I/O until `start`."""
    if location is None:
        return FileRequestLogSink(settings.request_log_dir)
    files = HdfsFiles(
        location.url(settings.hdfs_scheme),
        user=location.user or settings.hdfs_user,
        timeout=settings.hdfs_timeout,
        datanode_rewrites=settings.hdfs_datanode_rewrites,
    )
    return HdfsRequestLogSink(
        files,
        log_dir=settings.hdfs_log_dir,
        spool_dir=settings.spool_dir,
        flush_interval=settings.hdfs_flush_interval,
        flush_bytes=settings.hdfs_flush_bytes,
        spool_warn_bytes=settings.spool_warn_bytes,
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def api_key_store(settings: Settings, vault: VaultSession | None) -> KeyStore:
    """Vault's KV secret VAULT_API_KEYS_PATH when set (with the logged-in session), else the file API_KEYS_FILE."""
    if settings.vault_api_keys_path:
        assert vault is not None  # the settings require VAULT_ADDR with it
        return VaultKeyStore(vault, settings.vault_kv_mount, settings.vault_api_keys_path)
    return JsonFileKeyStore(settings.api_keys_file)


def build_authenticator(settings: Settings, vault: VaultSession | None = None) -> Authenticator:
    """The API keys of API_KEYS_FILE, required as AUTH says. AUTH=auto, the default, never leaves a service reachable
    from other machines open: with no keys it is open only on loopback (local development, the README's curl),
    and elsewhere refuses to start."""
    loopback = is_loopback(settings.host)

    def required(keys: int) -> bool:
        if settings.auth != "auto":
            return settings.auth == "on"
        return keys > 0 or not loopback

    store = api_key_store(settings, vault)
    authenticator = Authenticator(store, required=required)
    try:
        count = authenticator.load()
    except KeyStoreError as exc:
        raise StartupError(f"{exc} (API_KEYS_FILE / VAULT_API_KEYS_PATH)") from exc
    if settings.auth == "auto" and count == 0 and not loopback:
        raise StartupError(
            f"no API keys in {store.describe()} and HOST={settings.host} is reachable from other machines: "
            "create one with `python -m spam_service keys create --role admin --name NAME`, bind HOST=127.0.0.1, or "
            "set AUTH=off (only behind something that authenticates)"
        )
    if not authenticator.required:
        reason = "AUTH=off" if settings.auth == "off" else f"no API keys in {store.describe()}, bound to loopback"
        _logger.warning("every route is open (%s): create keys with `python -m spam_service keys create`", reason)
    else:
        _logger.info("API keys required: %d keys in %s", count, store.describe())
    return authenticator


def build_prediction_store(settings: Settings) -> PredictionStore:
    """The store PREDICTION_STORE_URL names; no I/O until `start`."""
    return PredictionStore(
        settings.prediction_store_url.get_secret_value(),
        store_texts=settings.store_texts,
        flush_interval=settings.prediction_store_flush_interval,
        max_pending=settings.prediction_store_max_pending,
    )


@dataclass
class Services:
    """Everything the HTTP app serves with. `open` does the blocking start-up I/O, `start` (in the event loop)
    starts the micro-batcher and the Vault token renewal, `close` drains and stops them all in order."""

    settings: Settings
    classifier: SpamClassifier
    request_log: RequestLogSink
    prediction_store: PredictionStore
    authenticator: Authenticator | None = None  # None: built from the settings
    vault: VaultSession | None = None  # kept to renew its token and to report it in /status
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)  # a registry per app: tests run several
    shadow: ShadowScorer | None = None  # SHADOW_MODEL_URI's challenger, scoring a sample of /predict off its path
    batcher: MicroBatcher = field(init=False)
    swapper: ModelSwapper = field(init=False)
    model_watcher: AliasWatcher | None = field(init=False, default=None)  # with MODEL_WATCH_INTERVAL_S > 0
    rate_limits: RateLimits = field(init=False)
    started_at: float | None = field(init=False, default=None)
    _opened: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.authenticator is None:
            self.authenticator = build_authenticator(self.settings, self.vault)
        self.batcher = MicroBatcher(
            self.classifier,
            max_batch_texts=self.settings.inference_batch_size,
            max_wait_s=self.settings.batch_wait_ms / 1000,
            workers=self.settings.inference_workers,
            max_queued_texts=self.settings.max_queued_texts,
            on_batch=self.metrics.observe_batch,
        )
        self.rate_limits = RateLimits(
            self.settings.rate_limit_predict_texts,
            self.settings.rate_limit_feedback,
            self.settings.rate_limit_admin,
            max_request_texts=self.settings.max_texts_per_request,
        )
        self.swapper = ModelSwapper(
            lambda uri: load_model(uri, self.settings), lambda: self.classifier, self.switch_model
        )
        self._report_model()
        self.metrics.watch_request_log(self.request_log.status)
        self.metrics.watch_state(self.thread_statuses, self.queue_state)
        if self.shadow is not None:
            self.metrics.watch_shadow(self.shadow.status)

    def switch_model(self, classifier: SpamClassifier) -> None:
        """Serve `classifier` from now on: requests that start later get it; those in flight keep theirs."""
        self.classifier = classifier
        self.batcher.classifier = classifier
        self._report_model()
        if gc.get_freeze_count():
            # `__main__` froze the start-up model out of the collector's sight (full collections stalled the event
            # loop walking it): the new one too. The old one is freed by reference counting all the same.
            gc.freeze()

    def _report_model(self) -> None:
        classifier = self.classifier
        self.metrics.set_model(
            name=classifier.name,
            version=classifier.version,
            backend=classifier.backend,
            registry_version=classifier.registry_version,
        )

    def thread_statuses(self) -> list[ThreadStatus]:
        """Every background worker: the micro-batcher's collector, the request log's, the store's, the key store's
        and the model watcher's threads."""
        threads = [*self.request_log.threads(), *self.prediction_store.threads(), *self.authenticator.threads()]
        threads += self.shadow.threads() if self.shadow is not None else []
        if self.model_watcher is not None:
            threads.append(self.model_watcher)
        return [self.batcher.status(), *(thread.status() for thread in threads if thread.started)]

    def queue_state(self) -> QueueState:
        return QueueState(self.batcher.queued_texts, self.batcher.refused_overloaded, self.batcher.refused_deadline)

    def ready(self) -> bool:
        """Lines are stored durably and every background worker runs."""
        return self.request_log.status().ready and all(thread.alive for thread in self.thread_statuses())

    def open(self) -> None:
        """Open the request log (recovering what an earlier run spooled) and the prediction store (migrating its
        schema). Blocking; idempotent. `StartupError` names what failed; what was opened is closed again."""
        try:
            if "request_log" not in self._opened:
                try:
                    self.request_log.start()
                except OSError as exc:
                    raise StartupError(
                        f"request log: {exc.strerror or exc} at {exc.filename or self.request_log.status().target}: "
                        "check that REQUEST_LOG_DIR / SPOOL_DIR is a writable directory"
                    ) from exc
                self._opened.append("request_log")
            if "prediction_store" not in self._opened:
                self.prediction_store.start()  # an unreachable database is retried later; other failures raise
                self._opened.append("prediction_store")
        except BaseException:
            self._close_opened()
            raise

    async def start(self) -> None:
        await asyncio.to_thread(self.open)
        if self.vault is not None:
            self.vault.start_renewal()
        self.authenticator.start()
        self.batcher.start()
        if self.shadow is not None:
            self.shadow.start()
        if self.settings.model_watch_interval_s > 0 and self.settings.model_uri is not None:
            registry = ModelRegistry(self.settings.mlflow_tracking_uri)
            self.model_watcher = AliasWatcher(
                self.swapper,
                registry.resolve,
                lambda: self.classifier,
                uri=self.settings.model_uri,
                interval_s=self.settings.model_watch_interval_s,
            )
            self.model_watcher.start()
        self.started_at = time.time()
        _logger.info(
            "ready: model %s version %s (registry version %s, from %s) on %s, request log %s, prediction store %s",
            self.classifier.name,
            self.classifier.version,
            self.classifier.registry_version or "-",
            self.classifier.uri or self.settings.model_source,
            self.classifier.backend,
            self.request_log.status().target,
            self.prediction_store.target,  # password masked
        )

    async def close(self) -> None:
        if self.model_watcher is not None:
            await asyncio.to_thread(self.model_watcher.stop, MODEL_WATCHER_STOP_TIMEOUT_S)
        await self.batcher.close()
        if self.shadow is not None:  # before the store closes: what it scored is queued there
            await asyncio.to_thread(self.shadow.stop, SHADOW_STOP_TIMEOUT_S)
        self.authenticator.stop()
        # After inference: every answered prediction is queued by now.
        await asyncio.to_thread(self._close_opened)
        if self.vault is not None:
            self.vault.stop()
        _logger.info("stopped; request log flushed")
        flush_logs()

    def _close_opened(self) -> None:
        if "prediction_store" in self._opened:
            self.prediction_store.close(timeout=PREDICTION_STORE_CLOSE_TIMEOUT_S)
        if "request_log" in self._opened:
            self.request_log.close(timeout=REQUEST_LOG_CLOSE_TIMEOUT_S)
        self._opened.clear()


def build_services(settings: Settings) -> Services:
    """Build and open every component from the settings. Vault first (it fails fast), then the model (seconds).

    Raises `StartupError` with a one-line message naming the cause and what to check."""
    location, vault = locate_hdfs(settings)
    try:
        authenticator = build_authenticator(settings, vault)  # before the model: a refusal costs little
        classifier = load_classifier(settings)
        warn_of_canary_misses(classifier)
        prediction_store = build_prediction_store(settings)
        services = Services(
            settings=settings,
            classifier=classifier,
            request_log=build_request_log(settings, location),
            prediction_store=prediction_store,
            authenticator=authenticator,
            vault=vault,
            shadow=build_shadow_scorer(settings, prediction_store),
        )
        services.open()
    except BaseException:
        if vault is not None:
            vault.stop()
        raise
    return services
