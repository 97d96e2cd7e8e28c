#!/usr/bin/env bash
# make kind-up: create the kind cluster from scripts/kind/cluster.yaml (idempotent).
# shellcheck source=scripts/kind/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need docker "kind runs its nodes as Docker containers"
need kind "https://kind.sigs.k8s.io"
docker info >/dev/null 2>&1 || die "the Docker engine is not running"

# kind enforces NetworkPolicy (kindnet); before 0.29 its policies also blocked
# kubelet probes, and the chart's default-deny policies would keep the API unready.
MIN_KIND=0.29.0
version=$(kind version | awk '{print $2}')
version=${version#v}
if [ "$(printf '%s\n%s\n' "$MIN_KIND" "$version" | sort -V | head -n 1)" != "$MIN_KIND" ]; then
    die "kind $version is too old: $MIN_KIND or newer is needed"
fi

if cluster_exists; then
    log "kind cluster $CLUSTER already exists"
else
    log "creating kind cluster $CLUSTER"
    kind create cluster --name "$CLUSTER" --config "$KIND_DIR/cluster.yaml" --wait 180s
fi
k cluster-info
