# syntax=docker/dockerfile:1
# operator: the shared image (../Dockerfile) plus grpcurl and this package (its SigV4 proxy),
# run on demand in the mesh's VPC to call the Lattice services (docs/AWS.md, "Operator
# access"); never a service. From the repo root:
#   docker build -t shopmesh-base . && docker build -f cloudformation/operator.Dockerfile .
ARG GO_IMAGE=golang:1.26.8-bookworm

# grpcurl built from source at a pinned version for the target architecture (static,
# no cgo); the Go toolchain stays in this stage.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS grpcurl
ARG TARGETOS
ARG TARGETARCH
ENV CGO_ENABLED=0
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go install -trimpath \
        github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3 \
 && install -D "$(find /go/bin -type f -name grpcurl)" /out/grpcurl

# shopmesh-base is our shared image (or named build context), not a registry image.
# hadolint ignore=DL3006
FROM shopmesh-base
COPY --from=grpcurl /out/grpcurl /usr/local/bin/grpcurl
COPY cloudformation/ /opt/shopmesh/cloudformation/
ENV PYTHONPATH=/opt/shopmesh
# No server: the task waits for an operator's ECS Exec session and stops by itself (the
# task definition's command says how long).
CMD ["sleep", "3600"]
