# badges-health container image: built from Debian bookworm packages,
# runs as a non-root user, receives SIGTERM directly (exec-form entrypoint).
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake libboost1.81-dev nlohmann-json3-dev libspdlog-dev libcli11-dev \
      libpq-dev libssl-dev libnghttp2-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY include include
COPY src src
COPY openapi openapi
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBADGES_HEALTH_BUILD_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target badges-health \
 && strip build/badges-health

FROM debian:bookworm-slim
ARG CURRENT_VERSION=0.1.0
ARG COMMIT_HASH=unknown
LABEL org.opencontainers.image.title="badges-health" \
      org.opencontainers.image.description="Health probe service of the Decentraland Badges API" \
      org.opencontainers.image.version="${CURRENT_VERSION}" \
      org.opencontainers.image.revision="${COMMIT_HASH}"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libspdlog1.10 libpq5 libssl3 libnghttp2-14 ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && useradd --system --uid 10001 --no-create-home badges
COPY --from=build /src/build/badges-health /usr/local/bin/badges-health
# The server writes the address it listens on to BADGES_HEALTH_ADDRESS_FILE
# and the HEALTHCHECK's probe reads it there, so `docker run IMAGE --port
# 9090` (or --host 10.0.0.5) stays healthy; with a read-only /tmp the server
# only warns, and the probe falls back to HTTP_SERVER_HOST/HTTP_SERVER_PORT.
ENV CURRENT_VERSION=${CURRENT_VERSION} COMMIT_HASH=${COMMIT_HASH} \
    BADGES_HEALTH_ADDRESS_FILE=/tmp/badges-health.address
USER 10001
EXPOSE 8080
# The binary is its own probe client: no curl needed in the image. It asks
# /livez: ECS and Swarm replace a container whose HEALTHCHECK fails, so a
# dependency-aware endpoint here would turn a database outage into a
# restart storm. Load balancers ask /status.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD ["/usr/local/bin/badges-health", "probe", "--timeout", "2s"]
ENTRYPOINT ["/usr/local/bin/badges-health"]
