# syntax=docker/dockerfile:1

# kura's container image: the static kura binary, CA certificates and a
# non-root user, on an empty base image (no shell, no package manager).
#
#   docker build -t kura:dev .
#   docker build --build-arg VERSION=v1.2.0 --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg CREATED=$(git log -1 --format=%cI) -t kura:v1.2.0 .
#   docker run --rm -p 127.0.0.1:8080:8080 -e KURA_API_KEY -v kura-data:/data kura:dev
#
# See docs/en/docker.md.

# GO_VERSION is the Go toolchain that builds kura: go.mod's go line.
ARG GO_VERSION=1.26.8

# The first stage runs on the builder's own platform and cross-compiles
# for the target (TARGETOS/TARGETARCH come from buildx), so a multi-arch
# build needs no emulation.
# build compiles kura and lays out the final image's file system.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The same flags as the release workflow (.github/workflows/release.yml), so
# the binary in the image is byte for byte the released one.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X github.com/kura-rag/kura/internal/version.version=${VERSION} -X github.com/kura-rag/kura/internal/version.commit=${COMMIT}" \
      -o /out/kura ./cmd/kura

# The final image's whole file system, with its owners and modes: COPY
# --from keeps both. /data belongs to the kura user (a new named volume
# takes over its owner); /tmp takes uploads on their way in.
RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/usr/local/bin /rootfs/data /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nkura:x:65532:65532:kura:/data:/sbin/nologin\n' > /rootfs/etc/passwd \
 && printf 'root:x:0:\nkura:x:65532:\n' > /rootfs/etc/group \
 && cp /out/kura /rootfs/usr/local/bin/kura \
 && chown 65532:65532 /rootfs/data && chmod 0750 /rootfs/data \
 && chmod 1777 /rootfs/tmp

FROM scratch
ARG VERSION=dev
ARG COMMIT=
ARG CREATED=
LABEL org.opencontainers.image.title="kura" \
      org.opencontainers.image.description="Documents in, a searchable and question-answerable knowledge base out: HTTP API, OpenAI-compatible endpoint and web chat" \
      org.opencontainers.image.source="https://github.com/kura-rag/kura" \
      org.opencontainers.image.url="https://github.com/kura-rag/kura" \
      org.opencontainers.image.documentation="https://github.com/kura-rag/kura/blob/main/docs/en/docker.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="scratch"
COPY --from=build /rootfs/ /
# A numeric user, so Kubernetes' runAsNonRoot can check it without a passwd lookup.
USER 65532:65532
ENV KURA_DATA=/data
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# kura serve refuses to listen on 0.0.0.0 without an API key: pass
# KURA_API_KEY (or mount a keys file and add --api-keys FILE).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/kura", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/kura"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
