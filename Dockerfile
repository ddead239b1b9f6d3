# syntax=docker/dockerfile:1

# Build stage: a static binary (no cgo), so the runtime image needs no libc.
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that source changes do not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Version information for agentgateway_exporter_build_info and --version.
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH} \
        -X github.com/prometheus/common/version.BuildUser=docker \
        -X github.com/prometheus/common/version.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" \
      -o /out/agentgateway_exporter .

# Runtime stage: nothing but the binary and the CA bundle for https
# gateways, which the Go build image already carries.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/agentgateway_exporter /bin/agentgateway_exporter
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 10025
# agents.yml holds Guids: mount it (read-only) rather than baking it in.
ENTRYPOINT ["/bin/agentgateway_exporter"]
CMD ["--config.file=/etc/agentgateway_exporter/agents.yml"]
