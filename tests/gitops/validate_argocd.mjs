// Validate Argo CD objects against the upstream CRD schemas (npm
// @kubernetes-models/argo-cd, pinned in scripts/node/package.json).
//
// usage: node validate_argocd.mjs NODE_MODULES < objects.json
// stdin: a JSON array of Argo CD objects (Application, ApplicationSet, AppProject).
// stdout: a JSON array with one entry per object: {kind, name, errors: [..]}.
// An object of any other kind is an error: nothing passes unchecked.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";

const nodeModules = process.argv[2];
const argocd = await import(
  pathToFileURL(join(nodeModules, "@kubernetes-models", "argo-cd/argoproj.io/v1alpha1/index.js")).href
);

const models = {
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
