# The runtime image only: nothing is compiled or downloaded here, so it
# builds with no registry at all. Build it with scripts/docker-build.sh,
# which first builds the static binary (CGO off, version stamped) and copies
# the host's CA bundle into .build/<os>-<arch>/, then runs docker build.
FROM scratch
ARG OS=linux
ARG ARCH=amd64
# The CA bundle, for https gateways.
COPY .build/${OS}-${ARCH}/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY .build/${OS}-${ARCH}/agentgateway_exporter /bin/agentgateway_exporter
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 10025
# The default --config.file is agents.yml in the working directory, so the
# configuration is found at /etc/agentgateway_exporter/agents.yml whatever
# flags are added at docker run. It holds Guids: mount it (read-only) rather
# than baking it in.
WORKDIR /etc/agentgateway_exporter
ENTRYPOINT ["/bin/agentgateway_exporter"]
