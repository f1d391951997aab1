{{/*
Named templates shared by the controller and the speaker. Object names are fixed, as in
deploy/ferrolb-native.yaml: ferrolb is one per cluster (cluster-wide CRDs, ClusterRoles
and webhook configuration), and the controller's RBAC and flags name these objects.
*/}}

{{/* The image both containers run; the tag defaults to the chart's appVersion. */}}
{{- define "ferrolb.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The image lines of a container: the image and, when set, its pull policy. */}}
{{- define "ferrolb.containerImage" -}}
image: {{ include "ferrolb.image" . | quote }}
{{- with .Values.image.pullPolicy }}
imagePullPolicy: {{ . }}
{{- end }}
{{- end }}

{{/* The pod template's annotations (prometheus.scrapeAnnotations), or nothing. */}}
{{- define "ferrolb.podAnnotations" -}}
{{- if .Values.prometheus.scrapeAnnotations -}}
annotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ include "ferrolb.scrapePort" . | quote }}
  {{- if .Values.prometheus.secureMetricsPort }}
  prometheus.io/scheme: https
  {{- end }}
{{- end }}
{{- end }}

{{/*
The port Prometheus scrapes: prometheus.secureMetricsPort when set (HTTPS, bearer token
checked; docs/METRICS.md "Secure metrics"), else prometheus.metricsPort (plain HTTP).
*/}}
{{- define "ferrolb.scrapePort" -}}
{{- .Values.prometheus.secureMetricsPort | default .Values.prometheus.metricsPort -}}
{{- end }}

{{/*
The metrics flags of a component: (dict "component" "controller" "host" "0.0.0.0" "root" .).
Secure: /metrics over HTTPS on secureMetricsPort, and a plain health port (/healthz,
/readyz only) on metricsPort for the probes; the certificate from the component's
*MetricsTLSSecret (mounted at /etc/metrics), else self-signed at start.
*/}}
{{- define "ferrolb.metricsArgs" -}}
{{- $p := .root.Values.prometheus -}}
{{- if $p.secureMetricsPort }}
- --metrics-addr={{ .host }}:{{ $p.secureMetricsPort }}
- --health-addr={{ .host }}:{{ $p.metricsPort }}
{{- if get $p (printf "%sMetricsTLSSecret" .component) }}
- --metrics-cert-dir=/etc/metrics
{{- else }}
- --metrics-secure
{{- end }}
{{- else }}
- --metrics-addr={{ .host }}:{{ $p.metricsPort }}
{{- end }}
{{- end }}

{{/* The container ports of the metrics and health endpoints, and the probes' port name. */}}
{{- define "ferrolb.metricsPorts" -}}
- {name: monitoring, containerPort: {{ include "ferrolb.scrapePort" . }}}
{{- if .Values.prometheus.secureMetricsPort }}
- {name: health, containerPort: {{ .Values.prometheus.metricsPort }}}
{{- end }}
{{- end }}
{{- define "ferrolb.probePort" -}}
{{- ternary "health" "monitoring" (not (not .Values.prometheus.secureMetricsPort)) -}}
{{- end }}

{{/*
Where a component's pods may run, from its values (controller or speaker) and the
tolerations it always has: (dict "values" .Values.speaker "tolerations" LIST "root" .).
kubernetes.io/os: linux is always in the nodeSelector: the image is Linux only.
*/}}
{{- define "ferrolb.scheduling" -}}
{{- $v := .values -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
{{- toYaml . | nindent 0 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- $tolerations := concat .tolerations ($v.tolerations | default list) }}
{{- with $tolerations }}
tolerations:
{{- toYaml . | nindent 0 }}
{{- end }}
nodeSelector:
{{- toYaml (mustMergeOverwrite (dict "kubernetes.io/os" "linux") ($v.nodeSelector | default dict)) | nindent 2 }}
{{- with $v.affinity }}
affinity:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
