{{/* Egress rules shared by the NetworkPolicies. */}}
{{- define "weather-warehouse.egressDnsAndDatabase" -}}
- to:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicy.dnsNamespaceSelector | nindent 8 }}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
- to:
    {{- range .Values.database.cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - port: {{ .Values.database.port }}
      protocol: TCP
{{- end }}
{{- define "weather-warehouse.egressAws" -}}
- to:
    {{- range .Values.networkPolicy.awsCIDRs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - port: 443
      protocol: TCP
{{- end }}
{{/* Egress to this release's collector for OTLP spans (when tracing goes there). */}}
{{- define "weather-warehouse.egressTracing" -}}
{{- if and .Values.tracing.enabled .Values.adotCollector.enabled (not .Values.tracing.endpoint) }}
- to:
    - podSelector:
        matchLabels:
          {{- include "weather-warehouse.componentSelectorLabels" (dict "context" . "component" "adot-collector") | nindent 10 }}
  ports:
    - port: {{ .Values.adotCollector.otlpPort }}
      protocol: TCP
{{- end }}
{{- end }}
