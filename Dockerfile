# syntax=docker/dockerfile:1
#
# TableRound: a static binary on distroless (CA certificates, tzdata, a
# non-root user, no shell). Build: docker build -t tableround .
# CI runs the same `go build` line as the build stage, so a broken image
# build shows up as a red CI even where Docker cannot run.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# -tags nodynamic: without it the HEIC decoder (gen2brain/heic) links libc
# through purego to dlopen libheif, even with CGO_ENABLED=0, and the binary
# would not start on distroless/static. With it, HEIC is decoded by the
# decoder's WebAssembly build (slower; see DESIGN §5).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -tags nodynamic -trimpath -ldflags "-s -w" -o /out/tableround ./cmd/tableround
# The data volume must belong to the non-root user (distroless has no shell to mkdir).
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
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
