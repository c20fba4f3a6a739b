# syntax=docker/dockerfile:1
#
# One image for every AgentHub service; the command chooses the service:
#   command-api | query-api | projectors run | sagas | schema-registry | dev-token
# (see docker-compose.yml and deploy/k8s/). Built with `docker compose build` or
# `docker build -t agenthub/agenthub:0.1.0 .`.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
# Builder: the workspace in release mode, with the committed Cargo.lock (--locked).
# rdkafka-sys builds the bundled librdkafka with its ./configure + make (default features:
# libz only, no cmake, no OpenSSL/SASL); libz-sys links the system zlib found by pkg-config.
# The rust image already carries gcc, g++, make, pkg-config and zlib1g-dev; they are named
# here so the requirement is written down and survives a change of base image.
# sqlx uses no compile-time checked queries (only embedded migrations): no DATABASE_URL needed.
# ---------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
# Debian's current packages of the release, not pinned versions (they vanish with updates).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential make pkg-config zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
        --bin command-api \
        --bin query-api \
        --bin projectors \
        --bin sagas \
        --bin schema-registry \
        --bin dev-token \
 && mkdir -p /out \
 && cp target/release/command-api target/release/query-api target/release/projectors \
       target/release/sagas target/release/schema-registry target/release/dev-token /out/

# ---------------------------------------------------------------------------------------------
# Runtime: Debian slim, CA certificates (the HTTP adapters speak TLS with rustls), zlib for
# librdkafka, curl for container health checks; runs as an unprivileged user.
# ---------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 agenthub \
 && useradd --system --uid 10001 --gid agenthub --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin agenthub
COPY --from=builder /out/ /usr/local/bin/
# In a container the services must listen on every interface (their defaults are 127.0.0.1).
ENV COMMAND_API_LISTEN=0.0.0.0:8001 \
    QUERY_API_LISTEN=0.0.0.0:8002 \
    SAGAS_LISTEN=0.0.0.0:8003 \
    PROJECTORS_LISTEN=0.0.0.0:8004 \
    SCHEMA_REGISTRY_LISTEN=0.0.0.0:8081 \
    RUST_LOG=info
USER 10001:10001
EXPOSE 8001 8002 8003 8004 8081
CMD ["command-api"]
