#!/usr/bin/env bash
# make kind-up: create the kind cluster from scripts/kind/cluster.yaml (idempotent).
# shellcheck source=scripts/kind/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need docker "kind runs its nodes as Docker containers"
need kind "https://kind.sigs.k8s.io"
docker info >/dev/null 2>&1 || die "the Docker engine is not running"

if cluster_exists; then
    log "kind cluster $CLUSTER already exists"
else
    log "creating kind cluster $CLUSTER"
    kind create cluster --name "$CLUSTER" --config "$KIND_DIR/cluster.yaml" --wait 180s
fi
k cluster-info
