# syntax=docker/dockerfile:1

# The chat server image: a static Go binary on distroless, running as non-root.
# Build from the repository root:
#   docker build -f deploy/backend.Dockerfile -t chat-backend .

# The builder runs on the build machine's own platform and cross-compiles, so
# multi-platform builds need no emulation for the Go compiler.
# Base images are pinned by digest (Dependabot proposes updates); the tag
# says what the digest is.
FROM --platform=$BUILDPLATFORM golang:1.27@sha256:e0174e51e81218523251d85d248a90d24c3d5e81543b4f07a5d66229397db190 AS build
ARG TARGETOS
ARG TARGETARCH
# The image's Go is the toolchain; never download another one during a build.
ENV GOTOOLCHAIN=local CGO_ENABLED=0
WORKDIR /src/backend

# Dependencies first, so that source edits reuse the module download layer.
COPY backend/go.mod backend/go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY backend/ ./
# -X=runtime.godebugDefault=adaptivestackstart=0: idle WebSockets keep a
# 2 KiB goroutine stack instead of 8 (see the Makefile's CHATD_LDFLAGS).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X=runtime.godebugDefault=adaptivestackstart=0" -o /out/chatd ./cmd/chatd && \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/healthcheck ./cmd/healthcheck && \
    mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /out/chatd /out/healthcheck /usr/local/bin/
# distroless has no shell to mkdir/chown at run time, so the data directory
# (SQLite and its generated secret, when there is no DATABASE_URL) is created
# owned by the nonroot user here.
COPY --from=build --chown=65532:65532 /out/data /data
# /metrics stays on chatd's loopback default here; compose opens it to the
# internal network (CHAT_METRICS_ADDR=:9464), never to the published port.
ENV CHAT_ADDR=:8080 \
    CHAT_DATA_DIR=/data
VOLUME ["/data"]
USER 65532:65532
EXPOSE 8080
# /healthz only says the process serves; readiness (database and broker)
# is /readyz, which the load balancer may use instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/healthcheck", "-url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/chatd"]
