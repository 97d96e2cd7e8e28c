// Validate custom resources against their upstream CRD schemas (npm
// @kubernetes-models, pinned in scripts/node/package.json): the chart's
// objects and the Argo CD objects under argocd/ alike.
//
// usage: node validate_crds.mjs NODE_MODULES < objects.json
// stdin: a JSON array of Kubernetes objects (custom resources only).
// stdout: a JSON array with one entry per object: {kind, name, errors: [..]}.
// An object of a kind without a validator is an error: nothing passes unchecked.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";

const nodeModules = process.argv[2];
const load = (path) => import(pathToFileURL(join(nodeModules, "@kubernetes-models", path)).href);

const externalSecrets = await load("external-secrets/external-secrets.io/v1/index.js");
const monitoring = await load("prometheus-operator/monitoring.coreos.com/v1/index.js");
const argocd = await load("argo-cd/argoproj.io/v1alpha1/index.js");

const models = {
  "external-secrets.io/v1/ExternalSecret": externalSecrets.ExternalSecret,
  "external-secrets.io/v1/SecretStore": externalSecrets.SecretStore,
  "external-secrets.io/v1/ClusterSecretStore": externalSecrets.ClusterSecretStore,
  "monitoring.coreos.com/v1/ServiceMonitor": monitoring.ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": monitoring.PrometheusRule,
  "monitoring.coreos.com/v1/PodMonitor": monitoring.PodMonitor,
  "argoproj.io/v1alpha1/Application": argocd.Application,
  "argoproj.io/v1alpha1/ApplicationSet": argocd.ApplicationSet,
  "argoproj.io/v1alpha1/AppProject": argocd.AppProject,
};

const objects = JSON.parse(readFileSync(0, "utf8"));
const results = objects.map((object) => {
  const key = `${object.apiVersion}/${object.kind}`;
  const result = { kind: key, name: object.metadata?.name ?? "", errors: [] };
  const Model = models[key];
  if (Model === undefined) {
    result.errors.push(`no validator for ${key}`);
    return result;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    const details = error.errors ?? [error.message];
    result.errors.push(...details.map((e) => (typeof e === "string" ? e : JSON.stringify(e))));
  }
  return result;
});
process.stdout.write(JSON.stringify(results));
