#!/usr/bin/env bash
# Shared by the kind scripts (sourced, not run): names, tools and small helpers.
# Every setting can be overridden from the environment.
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KIND_DIR="$REPO/scripts/kind"
CLUSTER=${KIND_CLUSTER:-weather-warehouse}
NAMESPACE=${KIND_NAMESPACE:-weather-warehouse}
RELEASE=${KIND_RELEASE:-weather-warehouse}
CONTEXT="kind-$CLUSTER"
IMAGE_REPOSITORY=weather-warehouse
# The project's pinned helm and kubectl (make tools) when present, else the PATH's.
HELM=${HELM:-$( [ -x "$REPO/.tools/bin/helm3" ] && echo "$REPO/.tools/bin/helm3" || echo helm )}
KUBECTL=${KUBECTL:-$( [ -x "$REPO/.tools/bin/kubectl" ] && echo "$REPO/.tools/bin/kubectl" || echo kubectl )}

log() {
    printf '\n== %s\n' "$*" >&2
}

die() {
    printf 'kind: %s\n' "$*" >&2
    exit 1
}

# need TOOL WHY: stop with a clear message when a tool is missing.
need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 is needed ($2); see README, \"Trying it on kind\""
}

# kubectl against the kind cluster only, never the current context.
k() {
    "$KUBECTL" --context "$CONTEXT" "$@"
}

cluster_exists() {
    kind get clusters 2>/dev/null | grep -qx "$CLUSTER"
}

require_cluster() {
    cluster_exists || die "no kind cluster \"$CLUSTER\": run make kind-up first"
}

# The name of the release's object of KIND with component COMPONENT (api, ingest).
component_name() {
    local name
    name=$(k get "$1" --namespace "$NAMESPACE" \
        --selector "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component=$2" \
        --output jsonpath='{.items[0].metadata.name}')
    [ -n "$name" ] || die "no $1 of component $2 in release $RELEASE (namespace $NAMESPACE)"
    echo "$name"
}
