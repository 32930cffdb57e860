# syntax=docker/dockerfile:1
# shopmesh-base: the one image every shopmesh process runs from. The project is installed
# from pyproject.toml's pins, with the stubs and gen/descriptors.binpb generated from
# protos/ by tools/protogen.py, as `make protos` does. Each process's own Dockerfile
# (services/<name>/Dockerfile, gateway/Dockerfile) adds only its ports, health check and
# command. Build from the repo root (README, "Containers"):
#   docker build -t shopmesh-base . && docker build -f services/catalog/Dockerfile .

ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# hdrhistogram ships no arm64 wheel, so it compiles; the compiler stays in this stage
# (bookworm's gcc, not pinned: nothing built with it but that one extension ships).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
# Requirements come from pyproject.toml alone: the runtime pins, and the protoc toolchain's
# pins from the dev extras (grpcio, protobuf and googleapis held to the runtime pins).
RUN python -c 'import tomllib; project = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
toolchain = {"grpcio-tools", "mypy-protobuf", "googleapis-common-protos"}; \
every = project["dependencies"] + project["optional-dependencies"]["dev"]; \
print(*project["dependencies"], sep="\n", file=open("runtime.txt", "w")); \
print(*(r for r in every if r.split("==")[0] in toolchain), sep="\n", file=open("protoc.txt", "w"))'
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r runtime.txt
RUN python -m venv /opt/protoc && /opt/protoc/bin/pip install -c runtime.txt -r protoc.txt
COPY protos/ protos/
COPY tools/protogen.py tools/
RUN /opt/protoc/bin/python tools/protogen.py
COPY meshkit/ meshkit/
COPY services/ services/
COPY gateway/ gateway/
RUN /opt/venv/bin/pip install --no-deps .

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 10001 shopmesh \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin shopmesh \
 && install -d -o 10001 -g 10001 /data
COPY --from=build /opt/venv /opt/venv
# The gateway builds its descriptor pool from this file (GATEWAY_DESCRIPTORS).
COPY --from=build /src/gen/descriptors.binpb /opt/shopmesh/descriptors.binpb
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SHOPMESH_HOST=0.0.0.0 \
    SHOPMESH_DATA_DIR=/data
WORKDIR /opt/shopmesh
USER 10001:10001
# The runtime drains on SIGTERM (health NOT_SERVING, drain delay, stop(grace)): give it
# SHOPMESH_DRAIN_DELAY_S + SHOPMESH_GRACE_S (15 s by default) before the kill, e.g.
# `docker stop -t 20` or compose's stop_grace_period.
STOPSIGNAL SIGTERM
