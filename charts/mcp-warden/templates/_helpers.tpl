{{/* Names, labels and the webhook/stream TLS material shared by the templates. */}}

{{- define "mcp-warden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-warden.fullname" -}}
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

{{- define "mcp-warden.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* tools/generate-chart-crds.ts drops CRD source labels with these keys; keep the two lists in step. */}}
{{- define "mcp-warden.labels" -}}
helm.sh/chart: {{ include "mcp-warden.chart" . }}
app.kubernetes.io/name: {{ include "mcp-warden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mcp-warden
{{- end }}

{{- define "mcp-warden.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-warden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "mcp-warden.operatorLabels" -}}
{{ include "mcp-warden.labels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "mcp-warden.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "mcp-warden.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag or repository@digest; the tag defaults to the chart's appVersion. */}}
{{- define "mcp-warden.image" -}}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository (default .appVersion .tag) }}
{{- end }}
{{- end }}

{{- define "mcp-warden.operatorImage" -}}
{{- include "mcp-warden.image" (merge (dict "appVersion" .Chart.AppVersion) .Values.operator.image) }}
{{- end }}

{{- define "mcp-warden.sidecarImage" -}}
{{- include "mcp-warden.image" (merge (dict "appVersion" .Chart.AppVersion) .Values.sidecar.image) }}
{{- end }}

{{- define "mcp-warden.webhookServiceName" -}}
{{- printf "%s-webhook" (include "mcp-warden.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-warden.streamServiceName" -}}
{{- printf "%s-stream" (include "mcp-warden.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-warden.metricsServiceName" -}}
{{- printf "%s-metrics" (include "mcp-warden.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Secret with ca.crt, tls.crt and tls.key, written by the chart or by cert-manager. */}}
{{- define "mcp-warden.tlsSecretName" -}}
{{- printf "%s-tls" (include "mcp-warden.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The URL the injected sidecars stream policies from. */}}
{{- define "mcp-warden.streamURL" -}}
{{- printf "https://%s.%s.svc:443" (include "mcp-warden.streamServiceName" .) .Release.Namespace }}
{{- end }}

{{/* Names the webhook and stream are reached by, as a list (for cert SANs). */}}
{{- define "mcp-warden.dnsSANs" -}}
{{- $names := list }}
{{- range $service := list (include "mcp-warden.webhookServiceName" .) (include "mcp-warden.streamServiceName" .) }}
{{- $names = concat $names (list $service (printf "%s.%s" $service $.Release.Namespace) (printf "%s.%s.svc" $service $.Release.Namespace) (printf "%s.%s.svc.%s" $service $.Release.Namespace $.Values.clusterDomain)) }}
{{- end }}
{{- toJson (concat $names .Values.webhook.extraDNSSANs) }}
{{- end }}

{{/*
The self-signed CA and serving certificate, generated once per render and cached on the
root context so the Secret and every caBundle agree. On upgrade the existing Secret is
looked up: its CA is kept (the caBundle never changes, so no webhook call fails during
a rollout), and its serving certificate too unless the SANs changed, in which case the
same CA signs a new one. `helm template` cannot look up and generates a fresh set.
*/}}
{{- define "mcp-warden.selfSignedTLS" -}}
{{- if not (hasKey $ "mcpWardenTLS") }}
{{- $dnsSANs := include "mcp-warden.dnsSANs" . | fromJsonArray }}
{{- $ipSANs := .Values.webhook.extraIPSANs }}
{{- $sans := printf "dns=%s;ip=%s" (join "," $dnsSANs) (join "," $ipSANs) }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "mcp-warden.tlsSecretName" .) }}
{{- $data := dict }}
{{- if $existing }}{{ $data = default (dict) $existing.data }}{{ end }}
{{- $tls := dict }}
{{- if and (index $data "ca.crt") (index $data "ca.key") }}
{{- $ca := buildCustomCert (index $data "ca.crt") (index $data "ca.key") }}
{{- $existingSANs := "" }}
{{- with $existing.metadata.annotations }}{{ $existingSANs = index . "mcpwarden.dev/certificate-sans" | default "" }}{{ end }}
{{- if and (eq $existingSANs $sans) (index $data "tls.crt") (index $data "tls.key") }}
{{- $tls = dict "caCert" ($ca.Cert) "caKey" ($ca.Key) "cert" (index $data "tls.crt" | b64dec) "key" (index $data "tls.key" | b64dec) }}
{{- else }}
{{- $cert := genSignedCert (first $dnsSANs) $ipSANs $dnsSANs (int .Values.webhook.selfSigned.certValidityDays) $ca }}
{{- $tls = dict "caCert" ($ca.Cert) "caKey" ($ca.Key) "cert" $cert.Cert "key" $cert.Key }}
{{- end }}
{{- else }}
{{- $ca := genCA (printf "%s-ca" (include "mcp-warden.fullname" .)) (int .Values.webhook.selfSigned.caValidityDays) }}
{{- $cert := genSignedCert (first $dnsSANs) $ipSANs $dnsSANs (int .Values.webhook.selfSigned.certValidityDays) $ca }}
{{- $tls = dict "caCert" $ca.Cert "caKey" $ca.Key "cert" $cert.Cert "key" $cert.Key }}
{{- end }}
{{- $_ := set $tls "sans" $sans }}
{{- $_ := set $ "mcpWardenTLS" $tls }}
{{- end }}
{{- toJson (get $ "mcpWardenTLS") }}
{{- end }}

{{/* The clientConfig of one webhook: the Service, or webhook.url for an operator outside the cluster. */}}
{{- define "mcp-warden.webhookClientConfig" -}}
{{- $root := .root }}
{{- if $root.Values.webhook.url }}
url: {{ printf "%s%s" (trimSuffix "/" $root.Values.webhook.url) .path | quote }}
{{- else }}
service:
  name: {{ include "mcp-warden.webhookServiceName" $root }}
  namespace: {{ $root.Release.Namespace }}
  path: {{ .path | quote }}
  port: 443
{{- end }}
{{- if not $root.Values.certManager.enabled }}
caBundle: {{ (include "mcp-warden.selfSignedTLS" $root | fromJson).caCert | b64enc }}
{{- end }}
{{- end }}

{{/* cert-manager's CA injector fills caBundle from the serving Certificate. */}}
{{- define "mcp-warden.webhookAnnotations" -}}
{{- if .Values.certManager.enabled }}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s" .Release.Namespace (include "mcp-warden.tlsSecretName" .) }}
{{- end }}
{{- end }}

{{/* Namespaces no webhook reaches: kube-system, the release's own, and webhook.excludedNamespaces. */}}
{{- define "mcp-warden.excludedNamespaces" -}}
{{- toJson (concat (list "kube-system" .Release.Namespace) .Values.webhook.excludedNamespaces | uniq) }}
{{- end }}

{{/*
The OpenTelemetry variables of the tracing values, as YAML (empty without an endpoint):
the operator's own environment, and what it injects into sidecars (--sidecar-otel).
*/}}
{{- define "mcp-warden.otelEnv" -}}
{{- with .Values.tracing }}
{{- if .otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ .otlpEndpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ .protocol | quote }}
OTEL_TRACES_SAMPLER: {{ .sampler | quote }}
{{- if .samplerArg }}
OTEL_TRACES_SAMPLER_ARG: {{ .samplerArg | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
