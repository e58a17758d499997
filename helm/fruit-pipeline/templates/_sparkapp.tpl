{{/* Pod settings shared by driver and executor: $ = root, .role = driver|executor, .pod = its values. */}}
{{- define "fruit-pipeline.podSpec" -}}
{{- $root := .root }}
{{- $pod := .pod }}
cores: {{ int64 $pod.cores }}
coreLimit: {{ $pod.coreLimit | quote }}
memory: {{ $pod.memory | quote }}
memoryOverhead: {{ $pod.memoryOverhead | quote }}
serviceAccount: {{ include "fruit-pipeline.serviceAccountName" $root }}
labels:
  {{- include "fruit-pipeline.labels" $root | nindent 2 }}
  app.kubernetes.io/component: {{ .role }}
  {{- with $pod.labels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with $pod.annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $env := include "fruit-pipeline.env" $root | trim }}
{{- if $env }}
env:
  {{- $env | nindent 2 }}
{{- end }}
podSecurityContext:
  {{- include "fruit-pipeline.podSecurityContext" $root | nindent 2 }}
securityContext:
  {{- include "fruit-pipeline.securityContext" $root | nindent 2 }}
{{- with $pod.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $pod.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $pod.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $pod.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/* The SparkApplication spec (also the template of a ScheduledSparkApplication). */}}
{{- define "fruit-pipeline.appSpec" -}}
type: Python
mode: cluster
pythonVersion: "3"
image: {{ include "fruit-pipeline.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
mainApplicationFile: {{ .Values.job.mainApplicationFile | quote }}
arguments:
  {{- include "fruit-pipeline.arguments" . | nindent 2 }}
sparkVersion: {{ .Values.sparkVersion | quote }}
sparkConf:
  {{- include "fruit-pipeline.sparkConf" . | nindent 2 }}
restartPolicy:
  type: {{ .Values.restartPolicy.type }}
  {{- if ne .Values.restartPolicy.type "Never" }}
  onFailureRetries: {{ int64 .Values.restartPolicy.onFailureRetries }}
  onFailureRetryInterval: {{ int64 .Values.restartPolicy.onFailureRetryInterval }}
  onSubmissionFailureRetries: {{ int64 .Values.restartPolicy.onSubmissionFailureRetries }}
  onSubmissionFailureRetryInterval: {{ int64 .Values.restartPolicy.onSubmissionFailureRetryInterval }}
  {{- end }}
{{- if .Values.timeToLiveSeconds }}
timeToLiveSeconds: {{ int64 .Values.timeToLiveSeconds }}
{{- end }}
{{- if .Values.dynamicAllocation.enabled }}
dynamicAllocation:
  {{- toYaml .Values.dynamicAllocation | nindent 2 }}
{{- end }}
driver:
  {{- include "fruit-pipeline.podSpec" (dict "root" . "role" "driver" "pod" .Values.driver) | trim | nindent 2 }}
  {{- if and .Values.metrics.enabled .Values.metrics.jobMetricsPort }}
  ports:
    - name: job-metrics
      containerPort: {{ int64 .Values.metrics.jobMetricsPort }}
      protocol: TCP
  {{- end }}
executor:
  {{- include "fruit-pipeline.podSpec" (dict "root" . "role" "executor" "pod" .Values.executor) | trim | nindent 2 }}
  {{- if not .Values.dynamicAllocation.enabled }}
  instances: {{ int64 .Values.executor.instances }}
  {{- end }}
  deleteOnTermination: true
{{- end }}
