{{/*
Chart name, truncated to 63 characters (a DNS label).
*/}}
{{- define "loyalty-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name of the release's resources.
*/}}
{{- define "loyalty-gateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
chart label: name-version.
*/}}
{{- define "loyalty-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of every resource.
*/}}
{{- define "loyalty-gateway.labels" -}}
helm.sh/chart: {{ include "loyalty-gateway.chart" . }}
{{ include "loyalty-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: api
{{- end -}}

{{/*
Labels the Deployment, Service, PDB, ServiceMonitor and NetworkPolicy select pods by.
*/}}
{{- define "loyalty-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "loyalty-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
ServiceAccount name.
*/}}
{{- define "loyalty-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "loyalty-gateway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Image reference: repository@digest, else repository:tag (tag defaults to appVersion).
*/}}
{{- define "loyalty-gateway.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The gateway configuration file: .Values.config with the keys the chart owns filled in
(server.host, server.port, redis.url as the ${REDIS_URL} reference). Secrets stay ${ENV}
references; the ConfigMap never holds one.
*/}}
{{- define "loyalty-gateway.config" -}}
{{- $config := deepCopy (default (dict) .Values.config) -}}
{{- $server := deepCopy (default (dict) (get $config "server")) -}}
{{- $_ := set $server "host" "0.0.0.0" -}}
{{- $_ = set $server "port" (int .Values.containerPort) -}}
{{- $_ = set $config "server" $server -}}
{{- $redis := deepCopy (default (dict) (get $config "redis")) -}}
{{- $_ = set $redis "url" "${REDIS_URL}" -}}
{{- $_ = set $config "redis" $redis -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
Name of the Secret mounted at keyFiles.mountPath ("" = none).
*/}}
{{- define "loyalty-gateway.keyFilesSecretName" -}}
{{- if .Values.keyFiles.secretName -}}
{{- .Values.keyFiles.secretName -}}
{{- else if and .Values.secrets.create .Values.secrets.files -}}
{{- printf "%s-files" (include "loyalty-gateway.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
Checks that stop rendering with a clear message.
*/}}
{{- define "loyalty-gateway.validate" -}}
{{- $drain := 20 -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (add $drain (int .Values.preStopSleepSeconds)) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds (%d) + the gateway's %d s drain" (int .Values.terminationGracePeriodSeconds) (int .Values.preStopSleepSeconds) $drain) -}}
{{- end -}}
{{- $redisInSecrets := and .Values.secrets.create (hasKey (default (dict) .Values.secrets.env) "REDIS_URL") -}}
{{- if not (or .Values.redis.url .Values.redis.existingSecret .Values.envFromSecrets $redisInSecrets) -}}
{{- fail "no Redis: set redis.url or redis.existingSecret (or a REDIS_URL key in envFromSecrets / secrets.env)" -}}
{{- end -}}
{{- if .Values.metrics.serviceMonitor.enabled -}}
{{- $server := default (dict) (get (default (dict) .Values.config) "server") -}}
{{- if and (hasKey $server "metrics_public") (not (get $server "metrics_public")) -}}
{{- fail "metrics.serviceMonitor.enabled needs config.server.metrics_public: true (otherwise /metrics is not served)" -}}
{{- end -}}
{{- end -}}
{{- end -}}
