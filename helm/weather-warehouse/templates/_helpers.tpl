{{/*
Names and labels shared by every template. Object names derive from the
release name so that two releases can share a namespace.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "weather-warehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified app name: fullnameOverride, else release name plus chart
name (just the release name when it already contains the chart name).
Truncated to 63 characters: some Kubernetes name fields are limited to that.
*/}}
{{- define "weather-warehouse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-name-version, for the helm.sh/chart label. */}}
{{- define "weather-warehouse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: immutable once a Deployment exists, so they hold only the
name and instance (plus the component, added by the caller).
*/}}
{{- define "weather-warehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weather-warehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object: the selector labels plus descriptive ones. */}}
{{- define "weather-warehouse.labels" -}}
helm.sh/chart: {{ include "weather-warehouse.chart" . }}
{{ include "weather-warehouse.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: weather-warehouse
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels of one component. Call with a dict:
(dict "context" $ "component" "api").
*/}}
{{- define "weather-warehouse.componentSelectorLabels" -}}
{{ include "weather-warehouse.selectorLabels" .context }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's objects: (dict "context" $ "component" "api"). */}}
{{- define "weather-warehouse.componentLabels" -}}
{{ include "weather-warehouse.labels" .context }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The ServiceAccount the API, ingest and migration pods run as. */}}
{{- define "weather-warehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "weather-warehouse.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The container image: repository, then @digest if given, else :tag (default appVersion). */}}
{{- define "weather-warehouse.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The ConfigMap holding the non-secret settings every pod reads. */}}
{{- define "weather-warehouse.configName" -}}
{{- printf "%s-config" (include "weather-warehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The Secret holding the database credentials (keys named by
database.credentials.usernameKey / passwordKey): the existing Secret, or the
one the ExternalSecret creates.
*/}}
{{- define "weather-warehouse.dbSecretName" -}}
{{- if eq .Values.database.credentials.source "existingSecret" }}
{{- required "database.credentials.existingSecret.name is required when source is existingSecret" .Values.database.credentials.existingSecret.name }}
{{- else }}
{{- printf "%s-db" (include "weather-warehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Where pods find the database password file (DATABASE_PASSWORD_FILE). */}}
{{- define "weather-warehouse.dbSecretMountPath" -}}
/var/run/secrets/weather-warehouse/db
{{- end }}

{{/*
Whether the pods that call AWS (ingest: S3 sources and CloudWatch; API:
uploads to S3) mount the ServiceAccount token that IRSA exchanges for
credentials. Pods that never call AWS or the Kubernetes API get no token.
*/}}
{{- define "weather-warehouse.irsa" -}}
{{- if and .Values.serviceAccount.roleArn (or .Values.serviceAccount.create .Values.serviceAccount.name) }}true{{- end }}
{{- end }}

{{/* Environment every container gets: the database user from the Secret. */}}
{{- define "weather-warehouse.dbEnv" -}}
- name: PGUSER
  valueFrom:
    secretKeyRef:
      name: {{ include "weather-warehouse.dbSecretName" . }}
      key: {{ .Values.database.credentials.usernameKey }}
- name: DATABASE_PASSWORD_FILE
  value: {{ include "weather-warehouse.dbSecretMountPath" . }}/password
{{- end }}

{{/*
Database settings as literal env (not from the ConfigMap: the migration Job
is a pre-install hook and runs before the ConfigMap exists).
*/}}
{{- define "weather-warehouse.dbSettingsEnv" -}}
- name: PGHOST
  value: {{ required "database.host is required" .Values.database.host | quote }}
- name: PGPORT
  value: {{ .Values.database.port | quote }}
- name: PGDATABASE
  value: {{ .Values.database.name | quote }}
- name: PGSSLMODE
  value: {{ .Values.database.sslMode | quote }}
- name: DATABASE_CONNECT_TIMEOUT_S
  value: {{ .Values.database.connectTimeoutSeconds | quote }}
- name: LOG_FORMAT
  value: json
{{- end }}

{{/* The writable /tmp and the database password file. */}}
{{- define "weather-warehouse.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: db-credentials
  mountPath: {{ include "weather-warehouse.dbSecretMountPath" . }}
  readOnly: true
{{- end }}

{{- define "weather-warehouse.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
- name: db-credentials
  secret:
    secretName: {{ include "weather-warehouse.dbSecretName" . }}
    defaultMode: 0440
    items:
      - key: {{ .Values.database.credentials.passwordKey }}
        path: password
{{- end }}

{{/* The checkov skips every workload shares, each with its reason. */}}
{{- define "weather-warehouse.checkovSkips" -}}
{{- if not .Values.image.digest }}
checkov.io/skip1: "CKV_K8S_43=The image is pinned by tag per environment in git (GitOps); image.digest pins by digest where the registry is known"
{{- end }}
checkov.io/skip2: "CKV_K8S_35=Env vars from Secrets hold only the database user name (PGUSER, not a credential) and, when configured, the cursor signing key (CURSOR_SECRET has no file variant); the database password and upload token are mounted files"
{{- if and (ne .Values.image.pullPolicy "Always") (not .Values.image.digest) }}
checkov.io/skip3: "CKV_K8S_15=image.pullPolicy {{ .Values.image.pullPolicy }} chosen in values for a tag without digest (images loaded into the nodes, e.g. kind load)"
{{- end }}
{{- if not .Values.networkPolicy.enabled }}
checkov.io/skip4: "CKV2_K8S_6=networkPolicy.enabled is false in values: the cluster's own policies govern these pods"
{{- end }}
{{- end }}

{{/*
The store every ExternalSecret of the chart reads through: the SecretStore the
chart creates, or the one named in values.
*/}}
{{- define "weather-warehouse.secretStoreRef" -}}
{{- $es := .Values.database.credentials.externalSecret -}}
{{- if $es.secretStore.create }}
kind: SecretStore
name: {{ include "weather-warehouse.fullname" . }}
{{- else }}
kind: {{ $es.storeRef.kind }}
name: {{ required "database.credentials.externalSecret.storeRef.name is required" $es.storeRef.name }}
{{- end }}
{{- end }}

{{/* The Secret holding CURSOR_SECRET ("" when none is configured). */}}
{{/*
The remoteRef fields the External Secrets CRD defaults, written out. The API
server fills them in on every ExternalSecret; `spec.data` is an atomic list, so
a rendered item without them never equals the live one and Argo CD's default
diff reports OutOfSync forever (selfHeal then re-syncs and re-runs the
migration hook each time). The values are the CRD's own defaults, so writing
them changes nothing the operator does. The Applications also diff server-side
(argocd/applicationset.yaml), which covers fields a later ESO release defaults.
*/}}
{{- define "weather-warehouse.remoteRefDefaults" -}}
conversionStrategy: Default
decodingStrategy: None
metadataPolicy: None
{{- end }}

{{- define "weather-warehouse.cursorSecretName" -}}
{{- if .Values.api.cursorSecret.remoteKey }}
{{- printf "%s-cursor" (include "weather-warehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- .Values.api.cursorSecret.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the upload token ("" when uploads are off or none is configured). */}}
{{- define "weather-warehouse.uploadTokenSecretName" -}}
{{- $token := .Values.api.uploads.tokenSecret -}}
{{- if .Values.api.uploads.enabled }}
{{- if $token.remoteKey }}
{{- printf "%s-upload-token" (include "weather-warehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $token.name }}
{{- end }}
{{- end }}
{{- end }}
