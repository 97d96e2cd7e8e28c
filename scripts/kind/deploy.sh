#!/usr/bin/env bash
# make kind-deploy: build the image, load it into kind, run PostgreSQL in the
# cluster, install the chart with scripts/kind/values.yaml, run one ingest Job
# from the CronJob and query the API through a port-forward.
# shellcheck source=scripts/kind/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need docker "builds the image"
need kind "loads the image into the cluster"
need curl "queries the API"
command -v "$HELM" >/dev/null 2>&1 || die "helm is needed: run make tools"
command -v "$KUBECTL" >/dev/null 2>&1 || die "kubectl is needed: run make tools"
require_cluster

JOB_TIMEOUT_S=${KIND_JOB_TIMEOUT_S:-900}
LOCAL_PORT=${KIND_LOCAL_PORT:-18000}

# The commit, plus the time when the tree has changes: a new tag on every deploy
# of new code, so the Deployment rolls (the pull policy is Never).
image_tag() {
    local tag
    tag=$(git -C "$REPO" rev-parse --short=12 HEAD)
    if [ -n "$(git -C "$REPO" status --porcelain)" ]; then
        tag="$tag-dirty-$(date -u +%Y%m%d%H%M%S)"
    fi
    echo "$tag"
}

# Wait for JOB to succeed; fail (with its logs) when it fails or times out.
wait_for_job() {
    local job=$1 deadline=$((SECONDS + JOB_TIMEOUT_S)) succeeded failed
    while [ "$SECONDS" -lt "$deadline" ]; do
        succeeded=$(k get job "$job" -n "$NAMESPACE" -o jsonpath='{.status.succeeded}')
        failed=$(k get job "$job" -n "$NAMESPACE" -o jsonpath='{.status.conditions[?(@.type=="Failed")].status}')
        if [ "${succeeded:-0}" -ge 1 ]; then
            return 0
        fi
        if [ "$failed" = "True" ]; then
            k logs "job/$job" -n "$NAMESPACE" --tail=50 || true
            die "ingest Job $job failed"
        fi
        sleep 5
    done
    k logs "job/$job" -n "$NAMESPACE" --tail=50 || true
    die "ingest Job $job did not finish within ${JOB_TIMEOUT_S}s"
}

tag=$(image_tag)
image="$IMAGE_REPOSITORY:$tag"

log "building $image"
docker build --tag "$image" "$REPO"

log "loading $image into kind"
kind load docker-image "$image" --name "$CLUSTER"

log "PostgreSQL in namespace $NAMESPACE"
k apply -f "$KIND_DIR/namespace.yaml"
k apply -f "$KIND_DIR/postgres.yaml"
k rollout status statefulset/postgres -n "$NAMESPACE" --timeout=300s

log "installing the chart (release $RELEASE)"
# The migration Job runs first as a Helm pre-install/pre-upgrade hook.
"$HELM" upgrade --install "$RELEASE" "$REPO/helm/weather-warehouse" \
    --kube-context "$CONTEXT" --namespace "$NAMESPACE" \
    --values "$KIND_DIR/values.yaml" --set-string "image.tag=$tag" \
    --wait --timeout 10m
api=$(component_name deployment api)
k rollout status "deployment/$api" -n "$NAMESPACE" --timeout=300s

log "one ingest run, created from the CronJob"
cronjob=$(component_name cronjob ingest)
job="$cronjob-kind-$(date -u +%Y%m%d%H%M%S)"
k create job "$job" --from="cronjob/$cronjob" -n "$NAMESPACE"
wait_for_job "$job"
k logs "job/$job" -n "$NAMESPACE" --tail=5

log "querying the API through a port-forward on 127.0.0.1:$LOCAL_PORT"
service=$(component_name service api)
k port-forward "service/$service" "$LOCAL_PORT:http" -n "$NAMESPACE" --address 127.0.0.1 >/dev/null &
forward=$!
trap 'kill "$forward" 2>/dev/null || true' EXIT
for _ in $(seq 1 30); do
    curl --silent --fail "http://127.0.0.1:$LOCAL_PORT/healthz" >/dev/null && break
    sleep 1
done
curl --silent --show-error --fail "http://127.0.0.1:$LOCAL_PORT/readyz"
echo
curl --silent --show-error --fail "http://127.0.0.1:$LOCAL_PORT/api/stations?limit=5"
echo
log "deployed: make kind-e2e checks it, make kind-down removes the cluster"
