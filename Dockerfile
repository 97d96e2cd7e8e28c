# syntax=docker/dockerfile:1
#
# Weather Warehouse: one image, three commands (serve, ingest, migrate).
#
# The base is pinned by digest. To bump it, resolve the tag's current digest
# (the multi-arch index) and replace it here in one commit:
#   crane digest python:3.11-slim-bookworm
#   (or: docker buildx imagetools inspect python:3.11-slim-bookworm)
# Any python 3.11 bookworm image with python3 and the venv module works as the
# base: the image test builds one with debootstrap and passes it in.
ARG BASE_IMAGE=python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

# ---- builder: a virtual environment with the pinned dependencies and the project
FROM ${BASE_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/venv
WORKDIR /src

# Dependencies first (their own layer, rebuilt only when the pins change):
# the runtime list from pyproject.toml, versions from constraints.txt, wheels
# only (nothing compiled). A CA bundle for a TLS-intercepting proxy may be
# passed as the build secret "cacert"; it is never written to a layer.
COPY pyproject.toml constraints.txt ./
RUN --mount=type=secret,id=cacert,required=false \
    if [ -s /run/secrets/cacert ]; then export PIP_CERT=/run/secrets/cacert; fi; \
    python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > requirements.txt \
    && /opt/venv/bin/pip install --only-binary=:all: -c constraints.txt -r requirements.txt

# The project itself, without dependencies (already there) and without the
# dev or embedded extras.
COPY README.md ./
COPY warehouse ./warehouse
COPY ingest_job ./ingest_job
COPY service ./service
COPY command ./command
RUN --mount=type=secret,id=cacert,required=false \
    if [ -s /run/secrets/cacert ]; then export PIP_CERT=/run/secrets/cacert; fi; \
    /opt/venv/bin/pip install --no-deps -c constraints.txt . \
    && /opt/venv/bin/python -m pip uninstall --yes --quiet setuptools pip

# ---- runtime: the base plus the virtual environment, nothing else
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="weather-warehouse" \
      org.opencontainers.image.description="Weather Warehouse: ingest job and HTTP API over PostgreSQL" \
      org.opencontainers.image.source="https://github.com/weather-warehouse/weather-warehouse"

# Nothing installs packages at run time: drop the base image's own pip (the
# official image has one; Debian's python3 has none), and add a named user
# for tools that look the UID up (libpq's default user name).
RUN if python3 -m pip --version > /dev/null 2>&1; then \
        python3 -m pip uninstall --yes --quiet pip setuptools wheel; \
    fi \
    && echo 'warehouse:x:10001:10001:weather-warehouse:/tmp:/usr/sbin/nologin' >> /etc/passwd \
    && echo 'warehouse:x:10001:' >> /etc/group

COPY --from=builder /opt/venv /opt/venv

# Read-only root filesystem: everything that writes goes to /tmp (an emptyDir
# in Kubernetes, a tmpfs with `podman run --read-only`).
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOG_FORMAT=json

USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
ENTRYPOINT ["weather-warehouse"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
