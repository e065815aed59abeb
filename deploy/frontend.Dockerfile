# syntax=docker/dockerfile:1

# The web image: the built SPA served by unprivileged nginx, which also
# proxies the API and the WebSocket to the backend replicas.
# Build from the repository root:
#   docker build -f deploy/frontend.Dockerfile -t chat-frontend .

# The bundle is platform independent: build it once, natively.
# Base images are pinned by digest (Dependabot proposes updates); the tag
# says what the digest is.
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0 AS build
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM nginxinc/nginx-unprivileged:1.28-alpine@sha256:7377697a821c131a924a7105fafbe7414db4e9fcc77a6f08f776f33f141ec3f8
# The image's main nginx.conf includes conf.d/*.conf inside its http block.
COPY deploy/nginx.conf /etc/nginx/conf.d/default.conf
COPY deploy/nginx-headers.conf /etc/nginx/snippets/headers.conf
COPY --from=build /src/frontend/dist /usr/share/nginx/html
EXPOSE 8080
# Checks nginx itself, not the backend: a backend outage must not make the
# front restart, it answers 502/503 until a replica is back.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/nginx-health"]
