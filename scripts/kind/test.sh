#!/usr/bin/env bash
# make kind-e2e: the end-to-end tests (tests/e2e) against the kind cluster of
# make kind-up/kind-deploy, on your own Docker. (make kind-test runs the GitOps
# cluster tests on a kind cluster of their own: tests/cluster/kind.py.)
# shellcheck source=scripts/kind/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need kind "finds the cluster"
need docker "runs PostgreSQL, moto and git daemon beside the cluster tests' kind cluster"
require_cluster
export KIND_CLUSTER="$CLUSTER" KIND_NAMESPACE="$NAMESPACE" KIND_RELEASE="$RELEASE"
export WEATHER_WAREHOUSE_E2E_CONTEXT="$CONTEXT"
# Without a cluster the e2e tests skip; here a skip would hide a broken cluster.
export WEATHER_WAREHOUSE_E2E_REQUIRED=1
exec "$REPO/.venv/bin/python" -m pytest "$REPO/tests/e2e" -m e2e --no-header -v "$@"
