{{/*
The ingest job's arguments: one --source per configured source and per NOAA
station (NOAA's public bucket, one CSV per station).
*/}}
{{- define "weather-warehouse.ingestArgs" -}}
- ingest
{{- range .Values.ingest.sources }}
- --source
- {{ . | quote }}
{{- end }}
{{- range .Values.ingest.noaaStations }}
- --source
- {{ printf "s3://noaa-ghcn-pds/csv/by_station/%s.csv" . | quote }}
{{- end }}
{{- if .Values.ingest.recomputeStats }}
- --recompute-stats
{{- end }}
{{- end }}
