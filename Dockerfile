# syntax=docker/dockerfile:1
#
# TableRound on Debian slim with the photo fast path: the system
# libjpeg-turbo and libheif, which imagepipe loads at run time through
# purego (no cgo). Build: docker build -t tableround .
# CI builds the same binary, and also the static `-tags nodynamic` one (pure
# Go photo decoding) to keep that working.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO_ENABLED=0 without -tags nodynamic: purego links libc dynamically so
# that imagepipe can dlopen libturbojpeg.so.0 and libheif.so.1.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/tableround ./cmd/tableround
RUN mkdir -p /out/data

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata libturbojpeg0 libheif1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 65532 --no-create-home --shell /usr/sbin/nologin nonroot
COPY --from=build /out/tableround /tableround
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV HTTP_ADDR=0.0.0.0:8080 \
    DATA_DIR=/data \
    LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/tableround"]
CMD ["serve"]
