# Loyalty Gateway container image.
#
# No "# syntax=" line: that would make BuildKit pull a frontend image from Docker Hub, which
# fails offline and behind a registry mirror; the builder's own Dockerfile frontend is used.
#
#   DOCKER_BUILDKIT=1 docker build -t loyalty-gateway:0.1.0 .   # (docker buildx build, Docker 23+)
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp --stop-timeout 30 \
#     -v "$PWD/config.yaml:/etc/loyalty-gateway/config.yaml:ro" --env-file gateway.env \
#     loyalty-gateway:0.1.0
#
# With -p, the configuration must say `server.host: 0.0.0.0` (the default 127.0.0.1 answers
# the container's own health check but nothing from outside). --stop-timeout 30: Docker's
# default 10 s before SIGKILL is shorter than the gateway's drain (20 s).
# Details: docs/deployment.md; ops/verify-image.sh builds and smoke-tests the image in CI.
#
# Server choice
# -------------
# The image runs `gateway serve`: uvicorn with `server.workers` worker processes (the same
# command tests/integration/test_cli.py starts as `python -m gateway serve --config FILE`).
#  - uvicorn's `--workers` supervisor (the parent process) health-checks its workers and
#    starts a new one when a worker dies, so one crashed worker does not take the pod down.
#  - On SIGTERM the parent stops accepting connections and tells every worker to finish its
#    in-flight requests, waiting up to 20 s (GRACEFUL_SECONDS in gateway/serving.py)
#    before it exits. The ENTRYPOINT is in exec form, so `gateway` is PID 1 and receives the
#    signal itself (no shell in between that would swallow it); Kubernetes'
#    terminationGracePeriodSeconds must stay above those 20 s (the chart uses 35 s).
#  - With several workers, /metrics merges every worker's values through
#    PROMETHEUS_MULTIPROC_DIR, which `gateway serve` creates under $TMPDIR (/tmp here).
#  - granian was considered; the benchmark harness that measures `gateway serve` lives in
#    bench/ (bench/run.py). uvicorn stays because it is what the gateway is tested with, it is
#    already in uv.lock, and its worker supervision and graceful drain are what the deployment
#    relies on.
#
# Read-only root filesystem: nothing is written outside /tmp (bytecode is compiled at build
# time, metrics and the optional embedded Redis use $TMPDIR). Mount a writable /tmp
# (`--tmpfs /tmp`, or the chart's emptyDir).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ARG UV_VERSION=0.13.9

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/opt/venv

RUN pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /src

# 1. The dependencies, exactly as locked (cached as long as uv.lock does not change).
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project --no-editable

# 2. The gateway itself, installed as a regular (non-editable) package into the same venv.
COPY README.md ./
COPY gateway ./gateway
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable \
    && /opt/venv/bin/python -c "import gateway.cli"

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG VERSION=0.1.0

LABEL org.opencontainers.image.title="loyalty-gateway" \
      org.opencontainers.image.description="One normalized REST API in front of many loyalty-points providers." \
      org.opencontainers.image.version="${VERSION}"

# A fixed, numeric, unprivileged user: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
       --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin gateway \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/loyalty-gateway

# Only the virtualenv: the gateway package is installed in it (no source tree needed).
COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    XDG_STATE_HOME=/var/lib/loyalty-gateway \
    GATEWAY_CONFIG=/etc/loyalty-gateway/config.yaml \
    HEALTHCHECK_PORT=8080

# the embedded Redis (no redis.url) keeps its append-only file here; a volume, so it is
# writable under --read-only and survives a container restart
VOLUME ["/var/lib/loyalty-gateway"]
USER 10001:10001

EXPOSE 8080

# No curl in slim images: probe /healthz with the venv's Python. Set HEALTHCHECK_PORT when the
# configuration's server.port is not 8080. (Kubernetes ignores HEALTHCHECK; the chart has probes.)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HEALTHCHECK_PORT', '8080') + '/healthz', timeout=3)"]

STOPSIGNAL SIGTERM

# `gateway serve` reads its configuration from $GATEWAY_CONFIG. Other subcommands work too:
#   docker run --rm ... loyalty-gateway:0.1.0 check-config
ENTRYPOINT ["gateway"]
CMD ["serve"]
