{{/* Chart name, overridable. */}}
{{- define "fruit-pipeline.name" -}}
{{- include "fruit-pipeline.fitName" (dict "name" (default .Chart.Name .Values.nameOverride) "max" 63) }}
{{- end }}

{{/*
A name cut to at most .max characters: kept whole when it fits, otherwise its first characters, "-" and the
first 8 hex digits of its sha256, so that distinct long names stay distinct and a name is the same on every render.
*/}}
{{- define "fruit-pipeline.fitName" -}}
{{- $name := .name | trimSuffix "-" }}
{{- if le (len $name) (int .max) }}
{{- $name }}
{{- else }}
{{- printf "%s-%s" ($name | trunc (int (sub .max 9)) | trimSuffix "-") (sha256sum $name | trunc 8) }}
{{- end }}
{{- end }}

{{/*
Longest fully qualified name. spark-operator names each run of a ScheduledSparkApplication
<name>-<19-digit timestamp> and puts that name in a label value (at most 63 characters), so a scheduled
release keeps its names to 63 - 20 = 43 characters.
*/}}
{{- define "fruit-pipeline.maxNameLength" -}}
{{- if .Values.schedule.enabled }}43{{ else }}63{{ end }}
{{- end }}

{{/* Fully qualified app name (release-based), fitted to fruit-pipeline.maxNameLength. */}}
{{- define "fruit-pipeline.fullname" -}}
{{- $max := include "fruit-pipeline.maxNameLength" . | int }}
{{- if .Values.fullnameOverride }}
{{- include "fruit-pipeline.fitName" (dict "name" .Values.fullnameOverride "max" $max) }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- include "fruit-pipeline.fitName" (dict "name" .Release.Name "max" $max) }}
{{- else }}
{{- include "fruit-pipeline.fitName" (dict "name" (printf "%s-%s" .Release.Name $name) "max" $max) }}
{{- end }}
{{- end }}
{{- end }}

{{/* fullname-SUFFIX (the dict's .root and .suffix), fitted to 63 characters. */}}
{{- define "fruit-pipeline.suffixedName" -}}
{{- include "fruit-pipeline.fitName" (dict "name" (printf "%s-%s" (include "fruit-pipeline.fullname" .root) .suffix) "max" 63) }}
{{- end }}

{{/* Chart label value: name-version. */}}
{{- define "fruit-pipeline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select this release's pods. */}}
{{- define "fruit-pipeline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fruit-pipeline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object of the chart. */}}
{{- define "fruit-pipeline.labels" -}}
helm.sh/chart: {{ include "fruit-pipeline.chart" . }}
{{ include "fruit-pipeline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fruit-pipeline
{{- end }}

{{/* ServiceAccount the driver (and executors) run as. */}}
{{- define "fruit-pipeline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- include "fruit-pipeline.fitName" (dict "name" (default (include "fruit-pipeline.fullname" .) .Values.serviceAccount.name) "max" 63) }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Container image reference. */}}
{{- define "fruit-pipeline.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Job command line: run --input --output --profile, then the job parameters. */}}
{{- define "fruit-pipeline.arguments" -}}
{{- $job := .Values.job }}
{{- $args := list "run" "--input" (required "job.input is required" $job.input) "--output" (required "job.output is required" $job.output) "--profile" $job.profile }}
{{- with $job.params }}
{{- if .orbFeatures }}{{ $args = concat $args (list "--orb-features" (toString (int64 .orbFeatures))) }}{{ end }}
{{- if .partitionsPerCore }}{{ $args = concat $args (list "--partitions-per-core" (toString (int64 .partitionsPerCore))) }}{{ end }}
{{- if .arrowBatchSize }}{{ $args = concat $args (list "--arrow-batch-size" (toString (int64 .arrowBatchSize))) }}{{ end }}
{{- if .maxPixels }}{{ $args = concat $args (list "--max-pixels" (toString (int64 .maxPixels))) }}{{ end }}
{{- if .vocabularySize }}{{ $args = concat $args (list "--vocabulary-size" (toString (int64 .vocabularySize))) }}{{ end }}
{{- if .pcaComponents }}{{ $args = concat $args (list "--pca-components" (toString (int64 .pcaComponents))) }}{{ end }}
{{- if .keepPixels }}{{ $args = concat $args (list "--keep-pixels") }}{{ end }}
{{- if not .reduction }}{{ $args = concat $args (list "--no-reduction") }}{{ end }}
{{- if not .evaluation }}{{ $args = concat $args (list "--no-evaluation") }}{{ end }}
{{- end }}
{{- if .Values.metrics.enabled }}
{{- if .Values.metrics.jobMetricsPort }}{{ $args = concat $args (list "--metrics-port" (toString (int64 .Values.metrics.jobMetricsPort))) }}{{ end }}
{{- if .Values.metrics.pushgateway }}{{ $args = concat $args (list "--pushgateway" .Values.metrics.pushgateway) }}{{ end }}
{{- else }}
{{- $args = concat $args (list "--no-metrics") }}
{{- end }}
{{- if ne $job.profile "emr" }}
{{- /* The job's own config defaults would override sparkConf, so pass these to it too. */}}
{{- if .Values.s3.endpoint }}{{ $args = concat $args (list "--s3-endpoint" .Values.s3.endpoint) }}{{ end }}
{{- if .Values.s3.pathStyle }}{{ $args = concat $args (list "--conf" "spark.hadoop.fs.s3a.path.style.access=true") }}{{ end }}
{{- if ne .Values.s3.committer "magic" }}{{ $args = concat $args (list "--conf" (printf "spark.hadoop.fs.s3a.committer.name=%s" .Values.s3.committer)) }}{{ end }}
{{- end }}
{{- if not .Values.eventLog.enabled }}
{{- $args = concat $args (list "--no-event-log") }}
{{- else }}
{{- if .Values.eventLog.dir }}{{ $args = concat $args (list "--event-log-dir" .Values.eventLog.dir) }}{{ end }}
{{- if ne .Values.eventLog.rollingMaxFileSize "128m" }}{{ $args = concat $args (list "--conf" (printf "spark.eventLog.rolling.maxFileSize=%s" .Values.eventLog.rollingMaxFileSize)) }}{{ end }}
{{- end }}
{{- if and .Values.metrics.enabled (ne .Values.metrics.namespace "fruit_pipeline") }}
{{- $args = concat $args (list "--conf" (printf "spark.metrics.namespace=%s" .Values.metrics.namespace)) }}
{{- end }}
{{- $args = concat $args $job.extraArgs }}
{{- toYaml $args }}
{{- end }}

{{/* Spark settings: S3 (s3a profile only), metrics, dynamic allocation, then user sparkConf. */}}
{{- define "fruit-pipeline.sparkConf" -}}
{{- $conf := dict }}
{{- if ne .Values.job.profile "emr" }}
{{- $s3 := .Values.s3 }}
{{- if $s3.endpoint }}{{ $_ := set $conf "spark.hadoop.fs.s3a.endpoint" $s3.endpoint }}{{ end }}
{{- if $s3.region }}{{ $_ := set $conf "spark.hadoop.fs.s3a.endpoint.region" $s3.region }}{{ end }}
{{- $_ := set $conf "spark.hadoop.fs.s3a.path.style.access" (toString $s3.pathStyle) }}
{{- $_ := set $conf "spark.hadoop.fs.s3a.aws.credentials.provider" "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider" }}
{{- if ne $s3.committer "file" }}
{{- $_ := set $conf "spark.hadoop.fs.s3a.committer.name" $s3.committer }}
{{- $_ := set $conf "spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a" "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory" }}
{{- end }}
{{- if eq $s3.committer "magic" }}
{{- $_ := set $conf "spark.hadoop.fs.s3a.committer.magic.enabled" "true" }}
{{- end }}
{{- end }}
{{- if .Values.metrics.enabled }}
{{- $_ := set $conf "spark.ui.prometheus.enabled" "true" }}
{{- $_ := set $conf "spark.metrics.namespace" .Values.metrics.namespace }}
{{- $_ := set $conf "spark.metrics.conf.*.sink.prometheusServlet.class" "org.apache.spark.metrics.sink.PrometheusServlet" }}
{{- $_ := set $conf "spark.metrics.conf.*.sink.prometheusServlet.path" "/metrics/driver/prometheus" }}
{{- $_ := set $conf "spark.metrics.appStatusSource.enabled" "true" }}
{{- end }}
{{- if and .Values.eventLog.enabled .Values.eventLog.dir }}
{{- /* The job sets the same; shown here so the SparkApplication says where its log goes. */}}
{{- $_ := set $conf "spark.eventLog.enabled" "true" }}
{{- $_ := set $conf "spark.eventLog.dir" .Values.eventLog.dir }}
{{- $_ := set $conf "spark.eventLog.compress" "true" }}
{{- $_ := set $conf "spark.eventLog.compression.codec" "zstd" }}
{{- $_ := set $conf "spark.eventLog.rolling.enabled" "true" }}
{{- $_ := set $conf "spark.eventLog.rolling.maxFileSize" .Values.eventLog.rollingMaxFileSize }}
{{- end }}
{{- $_ := set $conf "spark.ui.port" (toString (int64 .Values.driver.uiPort)) }}
{{- $_ := set $conf "spark.kubernetes.executor.deleteOnTermination" "true" }}
{{- range $key, $value := .Values.sparkConf }}
{{- $_ := set $conf $key (include "fruit-pipeline.string" $value) }}
{{- end }}
{{- toYaml $conf }}
{{- end }}

{{/* Environment of driver and executors: AWS region/endpoint, credentials only from a Secret. */}}
{{- define "fruit-pipeline.env" -}}
{{- if .Values.s3.region }}
- name: AWS_REGION
  value: {{ .Values.s3.region | quote }}
{{- end }}
{{- if .Values.s3.endpoint }}
- name: AWS_ENDPOINT_URL_S3
  value: {{ .Values.s3.endpoint | quote }}
{{- end }}
{{- with .Values.s3.credentialsSecret }}
{{- if .name }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .secretAccessKeyKey }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod-level security context (non-root, seccomp RuntimeDefault). */}}
{{- define "fruit-pipeline.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{/* Container security context (drop ALL, no privilege escalation). */}}
{{- define "fruit-pipeline.securityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}

{{/* A value as Spark expects it: whole numbers without exponent (YAML numbers arrive as float64). */}}
{{- define "fruit-pipeline.string" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) }}{{ int64 . }}{{ else }}{{ toString . }}{{ end }}
{{- end }}

{{/* The event-log directory the History Server reads. */}}
{{- define "fruit-pipeline.historyDirectory" -}}
{{- required "history.logDirectory (or eventLog.dir) is required when history.enabled" (default .Values.eventLog.dir .Values.history.logDirectory) }}
{{- end }}
