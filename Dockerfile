# syntax=docker/dockerfile:1
# Build: a static binary with the assets embedded.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/kinesis-console ./cmd/kinesis-console

# Run: no shell, no package manager, non-root; works with a read-only root file system.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kinesis-console /kinesis-console
USER nonroot:nonroot
EXPOSE 8080
# In a container the console must listen beyond loopback, so it refuses to
# start until the operator chooses sign-in (KINESIS_CONSOLE_AUTH=basic or
# proxy) or, knowingly, none (KINESIS_CONSOLE_ALLOW_NON_LOOPBACK=true): an
# open console is never the image's default.
ENV KINESIS_CONSOLE_ADDR=0.0.0.0:8080
ENTRYPOINT ["/kinesis-console"]
