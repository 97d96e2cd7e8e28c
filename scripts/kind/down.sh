#!/usr/bin/env bash
# make kind-down: delete the kind cluster and everything in it.
# shellcheck source=scripts/kind/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need kind "deletes the cluster"
if cluster_exists; then
    log "deleting kind cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER"
else
    log "no kind cluster $CLUSTER"
fi
