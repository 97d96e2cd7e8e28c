#!/usr/bin/env bash
# make kind-test: the end-to-end tests (tests/e2e) against the kind cluster.
# shellcheck source=scripts/kind/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need kind "finds the cluster"
require_cluster
export KIND_CLUSTER="$CLUSTER" KIND_NAMESPACE="$NAMESPACE" KIND_RELEASE="$RELEASE"
export WEATHER_WAREHOUSE_E2E_CONTEXT="$CONTEXT"
# Without a cluster the e2e tests skip; here a skip would hide a broken cluster.
export WEATHER_WAREHOUSE_E2E_REQUIRED=1
exec "$REPO/.venv/bin/python" -m pytest "$REPO/tests/e2e" -m e2e --no-header -v "$@"
