{{/* Names and pieces of the ADOT collector and of tracing. */}}
{{- define "weather-warehouse.adotName" -}}
{{- printf "%s-adot-collector" (include "weather-warehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The ADOT image: repository, then @digest if given, else :tag. */}}
{{- define "weather-warehouse.adotImage" -}}
{{- $image := .Values.adotCollector.image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository $image.tag }}
{{- end }}
{{- end }}

{{/* Whether the collector configuration ConfigMap renders. */}}
{{- define "weather-warehouse.adotConfigured" -}}
{{- if or .Values.cloudwatch.collector.enabled .Values.adotCollector.enabled }}true{{- end }}
{{- end }}

{{/*
Whether the collector scrapes the ingest job's metrics from the Pushgateway:
only when the job does not send them to CloudWatch itself (cloudwatch.enabled),
so that each run reaches CloudWatch once.
*/}}
{{- define "weather-warehouse.adotScrapesPushgateway" -}}
{{- $cw := .Values.cloudwatch }}
{{- if and $cw.collector.enabled .Values.ingest.pushgatewayUrl (not $cw.enabled) $cw.collector.ingestMetrics }}true{{- end }}
{{- end }}

{{/* The allow-list in force: the API's metrics, plus the ingest job's when scraped. */}}
{{- define "weather-warehouse.adotAllowList" -}}
{{- $list := .Values.cloudwatch.collector.metrics }}
{{- if include "weather-warehouse.adotScrapesPushgateway" . }}
{{- $list = concat $list .Values.cloudwatch.collector.ingestMetrics }}
{{- end }}
{{- toJson $list }}
{{- end }}

{{/*
The regex that matches one allow-listed name: a counter may arrive with or
without _total (the prometheus receiver's name normalisation), so both match.
The collector expands ${...}: the end anchor is written $$.
*/}}
{{- define "weather-warehouse.adotNamePattern" -}}
{{- if hasSuffix "_total" . }}
{{- printf "^%s(_total)?$$" (trimSuffix "_total" .) }}
{{- else }}
{{- printf "^%s$$" . }}
{{- end }}
{{- end }}

{{/* Where the pods send spans: tracing.endpoint, else this release's collector Service. */}}
{{- define "weather-warehouse.tracingEndpoint" -}}
{{- if .Values.tracing.endpoint }}
{{- .Values.tracing.endpoint }}
{{- else if .Values.adotCollector.enabled }}
{{- printf "http://%s.%s.svc:%v" (include "weather-warehouse.adotName" .) .Release.Namespace .Values.adotCollector.otlpPort }}
{{- else }}
{{- fail "tracing.enabled needs tracing.endpoint or adotCollector.enabled" }}
{{- end }}
{{- end }}

{{/* Tracing environment of a container: (dict "context" $ "service" "weather-warehouse-api"). */}}
{{- define "weather-warehouse.tracingEnv" -}}
{{- $ := .context }}
{{- if $.Values.tracing.enabled }}
- name: TRACING_ENABLED
  value: "true"
- name: OTEL_SERVICE_NAME
  value: {{ .service | quote }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ include "weather-warehouse.tracingEndpoint" $ | quote }}
- name: TRACING_TRACES_PER_SECOND
  value: {{ $.Values.tracing.tracesPerSecond | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $.Values.tracing.samplingRatio | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "k8s.namespace.name=%s,service.namespace=%s" $.Release.Namespace (include "weather-warehouse.fullname" $) | quote }}
{{- end }}
{{- end }}
