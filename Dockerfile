# syntax=docker/dockerfile:1.7
# The spam-service image: CPU-only PyTorch, the trained model inside, runs as a non-root user.
#
#   docker build -t spam-service .                                   # trains the model in the build (~6 min, 2 cores)
#   docker build --build-arg MODEL_SOURCE=context -t spam-service .  # copies weights/ from the context (after `make model`)
#   docker build --build-arg MODEL_SOURCE=dvc --build-context dvc-remote=../dvc-remote -t spam-service .
#                                                                    # pulls the model dvc.lock pins from a DVC remote
#
# MODEL_SOURCE=trained (default) makes the build self-contained: the pipeline's stages run in the `trainer` stage on
# the data in the repository, the same code and params as `dvc repro`, and layer caching skips them while their
# inputs are unchanged. CI sets MODEL_SOURCE=context: it has already run `dvc repro` (with its DVC cache) and tested
# that model, so the image ships exactly the tested weights instead of training a second time. MODEL_SOURCE=dvc
# pulls the exported model dvc.lock pins (bit for bit the published one) from the directory remote given as the
# `dvc-remote` build context, or from the remote a `dvc-config` secret names (an S3/MinIO remote with its
# credentials, never in a layer): docs/data-versioning.md.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG MODEL_SOURCE=trained

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Runtime dependencies, in their own layer: rebuilt only when requirements.txt changes.
FROM base AS runtime-deps
RUN python -m venv /opt/venv
# torch from PyTorch's CPU index first: from PyPI it would pull ~3 GB of CUDA libraries the image never uses.
# Its own layer (~700 MB) on purpose: it changes far less often than the rest.
# hadolint ignore=DL3059
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt

# The package as a wheel, so the runtime image gets the code without build tools.
FROM runtime-deps AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# The pipeline's stages, as `dvc repro` runs them (DVC itself is not needed to run them once).
FROM runtime-deps AS trainer
COPY requirements-pipeline.txt /tmp/requirements-pipeline.txt
RUN pip install --no-cache-dir -r /tmp/requirements-pipeline.txt
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl
WORKDIR /build
COPY params.yaml ./
COPY data/raw ./data/raw
COPY data/modern ./data/modern
COPY data/probe ./data/probe
ENV HF_HUB_OFFLINE=1
# `feedback` finds no prediction store in the build, so the image trains on the collection and the modern set;
# a model trained with feedback comes from `dvc repro` (MODEL_SOURCE=context or dvc).
RUN python -m spam_service.pipeline.prepare \
    && python -m spam_service.pipeline.feedback_export \
    && python -m spam_service.pipeline.baseline \
    && python -m spam_service.pipeline.train \
    && python -m spam_service.pipeline.onnx_export \
    && python -m spam_service.pipeline.evaluate \
    && python -m spam_service.pipeline.export

# Empty unless `--build-context dvc-remote=DIR` replaces it (a named context overrides the stage of that name).
FROM scratch AS dvc-remote

# DVC reads dvc.yaml (and params.yaml, which it interpolates) and dvc.lock, and pulls only the export stage's output.
FROM base AS dvc-pull
RUN pip install --no-cache-dir "dvc[s3]==3.67.1"
WORKDIR /repo
COPY .dvc/config .dvc/config
COPY dvc.yaml dvc.lock params.yaml ./
# DVC_REMOTE: `context` (the build context above) or a remote named in the project config or the dvc-config secret
# (a .dvc/config.local, as `dvc remote add --local` / `dvc remote modify --local` write it).
ARG DVC_REMOTE=context
RUN --mount=type=bind,from=dvc-remote,target=/dvc-remote \
    --mount=type=secret,id=dvc-config,target=/repo/.dvc/config.local \
    dvc config core.no_scm true \
    && dvc remote add --force context /dvc-remote \
    && dvc pull --remote "${DVC_REMOTE}" export

FROM scratch AS model-trained
COPY --from=trainer /build/weights /weights

FROM scratch AS model-context
COPY weights /weights

FROM scratch AS model-dvc
COPY --from=dvc-pull /repo/weights /weights

# A stage, not an image: hadolint cannot see that the ARG names one.
# hadolint ignore=DL3006
FROM model-${MODEL_SOURCE} AS model

FROM base AS runtime
LABEL org.opencontainers.image.title="spam-service" \
      org.opencontainers.image.description="Spam/ham SMS classifier: fine-tuned MiniLM + TF-IDF baseline behind FastAPI" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
COPY --from=runtime-deps /opt/venv /opt/venv
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels
WORKDIR /app
# Model files are 0644 (the export stage fixes save_pretrained's 0600); logs, spool and data (the default SQLite
# prediction store, data/predictions.sqlite3) writable by the service only.
COPY --from=model /weights /app/weights
RUN mkdir -p /app/logs /app/spool /app/data && chown app:app /app/logs /app/spool /app/data
ENV HF_HUB_OFFLINE=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    MODEL_DIR=/app/weights/spam-minilm \
    REQUEST_LOG_DIR=/app/logs \
    SPOOL_DIR=/app/spool
# The spool holds request-log lines on their way to HDFS: keep it on a volume so a restart ships them; likewise
# the SQLite prediction store (unless PREDICTION_STORE_URL names PostgreSQL).
VOLUME ["/app/spool", "/app/data"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=4)"]
CMD ["spam-service"]
