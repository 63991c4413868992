{{/*
Names and labels.
*/}}
{{- define "herald.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.fullname" -}}
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

{{/* Name of a component's objects: <fullname>-edge, <fullname>-ingest. Args: root, component. */}}
{{- define "herald.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "herald.fullname" $root | trunc 55 | trimSuffix "-") (index . 1) -}}
{{- end -}}

{{- define "herald.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: herald
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Args: root, component. */}}
{{- define "herald.componentLabels" -}}
{{ include "herald.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Args: root, component. Never changes between releases (Deployment selectors are immutable). */}}
{{- define "herald.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "herald.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "herald.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "herald.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "herald.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "herald.secretName" -}}
{{- default (printf "%s-secrets" (include "herald.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
Values as environment text: booleans as true/false, whole numbers without exponent
(Helm reads YAML numbers as float64: 1000000 would print 1e+06), lists joined by commas.
Nothing for null.
*/}}
{{- define "herald.scalar" -}}
{{- $v := . -}}
{{- if kindIs "invalid" $v -}}
{{- else if kindIs "bool" $v -}}{{ ternary "true" "false" $v }}
{{- else if kindIs "float64" $v -}}{{ if eq $v (floor $v) }}{{ printf "%.0f" $v }}{{ else }}{{ $v }}{{ end }}
{{- else if kindIs "slice" $v -}}
{{- $items := list -}}
{{- range $v }}{{ $items = append $items (include "herald.scalar" .) }}{{ end -}}
{{- join "," $items -}}
{{- else -}}{{ toString $v }}
{{- end -}}
{{- end -}}

{{/*
Milliseconds of a duration (500ms, 30s, 10m, 1h, 1d), as the services parse it, or a
clear failure. Args: value name, value, minimum in ms.
*/}}
{{- define "herald.durationMs" -}}
{{- $name := index . 0 -}}
{{- $text := include "herald.scalar" (index . 1) | trim -}}
{{- $min := index . 2 -}}
{{- $re := "^([0-9]+(\\.[0-9]+)?)(ms|s|m|h|d)$" -}}
{{- if not (regexMatch $re $text) -}}
{{- fail (printf "%s must be a duration such as 500ms, 30s, 10m or 1h (got %q)" $name $text) -}}
{{- end -}}
{{- $factor := get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 "d" 86400000) (regexReplaceAll $re $text "${3}") -}}
{{- $ms := round (mulf (float64 (regexReplaceAll $re $text "${1}")) $factor) 0 -}}
{{- if lt $ms (float64 $min) -}}
{{- fail (printf "%s must be a duration of at least %vms (got %q)" $name $min $text) -}}
{{- end -}}
{{- printf "%.0f" $ms -}}
{{- end -}}

{{/* Bytes of a size (65536, 64KiB, 1MiB, 1MB), as the services parse it. Args: name, value, minimum. */}}
{{- define "herald.sizeBytes" -}}
{{- $name := index . 0 -}}
{{- $text := include "herald.scalar" (index . 1) | trim -}}
{{- $min := index . 2 -}}
{{- $re := "^([0-9]+(\\.[0-9]+)?)\\s*([bB]|[kKmMgG][iI]?[bB])?$" -}}
{{- if not (regexMatch $re $text) -}}
{{- fail (printf "%s must be a size such as 65536, 64KiB or 1MiB (got %q)" $name $text) -}}
{{- end -}}
{{- $unit := regexReplaceAll $re $text "${3}" | lower | default "b" -}}
{{- $factor := get (dict "b" 1 "kb" 1000 "kib" 1024 "mb" 1000000 "mib" 1048576 "gb" 1000000000 "gib" 1073741824) $unit -}}
{{- $bytes := round (mulf (float64 (regexReplaceAll $re $text "${1}")) $factor) 0 -}}
{{- if lt $bytes (float64 $min) -}}
{{- fail (printf "%s must be a size of at least %v bytes (got %q)" $name $min $text) -}}
{{- end -}}
{{- printf "%.0f" $bytes -}}
{{- end -}}

{{/*
terminationGracePeriodSeconds of a component: at least the preStop sleep, plus the
shutdown timeout, plus a margin (values.yaml explains the arithmetic). Args: root, component.
*/}}
{{- define "herald.gracePeriodSeconds" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $c := get $root.Values $component -}}
{{- $timeoutMs := include "herald.durationMs" (list "shutdown.timeout" $root.Values.shutdown.timeout 100) | float64 -}}
{{- $timeoutS := int64 (ceil (divf $timeoutMs 1000)) -}}
{{- $minimum := add (int64 $c.lifecycle.preStopSleepSeconds) $timeoutS (int64 $c.lifecycle.terminationMarginSeconds) -}}
{{- $set := include "herald.scalar" $c.terminationGracePeriodSeconds -}}
{{- if eq $set "" -}}
{{- $minimum -}}
{{- else if lt (int64 $set) $minimum -}}
{{- fail (printf "%s.terminationGracePeriodSeconds (%s) must be at least %s.lifecycle.preStopSleepSeconds (%v) + shutdown.timeout (%s, so %ds) + %s.lifecycle.terminationMarginSeconds (%v) = %d, or the kubelet kills pods before their connections are drained" $component $set $component (int64 $c.lifecycle.preStopSleepSeconds) (include "herald.scalar" $root.Values.shutdown.timeout) $timeoutS $component (int64 $c.lifecycle.terminationMarginSeconds) $minimum) -}}
{{- else -}}
{{- $set -}}
{{- end -}}
{{- end -}}

{{/* Which secrets are configured, and where from: a dict of variable -> key in the Secret. */}}
{{- define "herald.secretKeys" -}}
{{- $v := .Values -}}
{{- $keys := dict -}}
{{- if $v.secrets.existingSecret -}}
{{- $k := $v.secrets.existingSecretKeys -}}
{{- if $k.jwtSecret }}{{ $_ := set $keys "JWT_SECRET" $k.jwtSecret }}{{ end -}}
{{- if $k.jwtPublicKey }}{{ $_ := set $keys "JWT_PUBLIC_KEY" $k.jwtPublicKey }}{{ end -}}
{{- if $k.ingestApiKeys }}{{ $_ := set $keys "INGEST_API_KEYS" $k.ingestApiKeys }}{{ end -}}
{{- if $k.adminApiKeys }}{{ $_ := set $keys "ADMIN_API_KEYS" $k.adminApiKeys }}{{ end -}}
{{- if $k.redisUrl }}{{ $_ := set $keys "REDIS_URL" $k.redisUrl }}{{ end -}}
{{- if $k.redisPassword }}{{ $_ := set $keys "REDIS_PASSWORD" $k.redisPassword }}{{ end -}}
{{- else -}}
{{- if $v.jwt.secret }}{{ $_ := set $keys "JWT_SECRET" "JWT_SECRET" }}{{ end -}}
{{- if $v.jwt.publicKey }}{{ $_ := set $keys "JWT_PUBLIC_KEY" "JWT_PUBLIC_KEY" }}{{ end -}}
{{- if $v.ingest.apiKeys }}{{ $_ := set $keys "INGEST_API_KEYS" "INGEST_API_KEYS" }}{{ end -}}
{{- if $v.ingest.adminApiKeys }}{{ $_ := set $keys "ADMIN_API_KEYS" "ADMIN_API_KEYS" }}{{ end -}}
{{- if $v.redis.url }}{{ $_ := set $keys "REDIS_URL" "REDIS_URL" }}{{ end -}}
{{- if $v.redis.password }}{{ $_ := set $keys "REDIS_PASSWORD" "REDIS_PASSWORD" }}{{ end -}}
{{- end -}}
{{- toJson $keys -}}
{{- end -}}

{{- define "herald.routesFile" -}}
{{- if .Values.ingest.routesFile -}}{{ .Values.ingest.routesFile }}
{{- else if not (kindIs "invalid" .Values.ingest.routes) -}}/etc/herald/routes/routes.json
{{- end -}}
{{- end -}}

{{/*
TLS (PROTOCOL.md section 12): a kubernetes.io/tls Secret mounted at /etc/herald/tls, or
paths of certificates mounted otherwise. "true" when either is set.
*/}}
{{- define "herald.tlsMountPath" -}}/etc/herald/tls{{- end -}}

{{- define "herald.tlsCertFile" -}}
{{- if .Values.tls.certFile -}}{{ .Values.tls.certFile }}
{{- else if .Values.tls.secretName -}}{{ include "herald.tlsMountPath" . }}/tls.crt
{{- end -}}
{{- end -}}

{{- define "herald.tlsKeyFile" -}}
{{- if .Values.tls.keyFile -}}{{ .Values.tls.keyFile }}
{{- else if .Values.tls.secretName -}}{{ include "herald.tlsMountPath" . }}/tls.key
{{- end -}}
{{- end -}}

{{- define "herald.tls" -}}
{{- if or .Values.tls.secretName .Values.tls.certFile .Values.tls.keyFile -}}true{{- end -}}
{{- end -}}

{{/*
Redis over TLS: the private CA of the Redis servers, from a Secret or a ConfigMap the
chart mounts (caSecretName, caConfigMapName), or a path mounted otherwise (caFile).
*/}}
{{- define "herald.redisTlsMountPath" -}}/etc/herald/redis-tls{{- end -}}

{{- define "herald.redisTlsCaFile" -}}
{{- $t := .Values.redis.tls -}}
{{- if $t.caFile -}}{{ $t.caFile }}
{{- else if or $t.caSecretName $t.caConfigMapName -}}{{ include "herald.redisTlsMountPath" . }}/{{ $t.caKey }}
{{- end -}}
{{- end -}}

{{- define "herald.eventSchemasDir" -}}
{{- if .Values.ingest.eventSchemasDir -}}{{ .Values.ingest.eventSchemasDir }}
{{- else if .Values.ingest.eventSchemas -}}/etc/herald/event-schemas
{{- end -}}
{{- end -}}

{{- define "herald.messageTypesFile" -}}
{{- if .Values.ingest.messageTypesFile -}}{{ .Values.ingest.messageTypesFile }}
{{- else if .Values.messageTypes -}}/etc/herald/message-types/message-types.yaml
{{- end -}}
{{- end -}}

{{/*
The environment of a component, from the values. The variable of each value is
CONFIG_SCHEMA's (packages/runtime/src/config-schema.ts); test/helm/config-coverage.test.ts
checks that each one reaches exactly the services that read it. Args: root, component.
*/}}
{{- define "herald.env" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $v := $root.Values -}}
{{- $plain := dict
  "LOG_LEVEL" $v.logLevel
  "LOG_FORMAT" $v.logFormat
  "HOST" $v.host
  "JWT_ALGORITHMS" $v.jwt.algorithms
  "JWT_ISSUER" $v.jwt.issuer
  "JWT_AUDIENCE" $v.jwt.audience
  "JWT_REQUIRE_EXP" $v.jwt.requireExp
  "JWT_MAX_TTL" $v.jwt.maxTtl
  "SHUTDOWN_DRAIN_PERIOD" $v.shutdown.drainPeriod
  "SHUTDOWN_TIMEOUT" $v.shutdown.timeout
  "HISTORY_SIZE" $v.history.size
  "HISTORY_TTL" $v.history.ttl
  "HISTORY_META_TTL" $v.history.metaTtl
  "INGEST_MAX_DEPTH" $v.input.maxDepth
  "REDIS_CLUSTER_NODES" $v.redis.clusterNodes
  "REDIS_KEY_PREFIX" $v.redis.keyPrefix
  "REDIS_TLS" $v.redis.tls.enabled
  "REDIS_TLS_CA_FILE" (include "herald.redisTlsCaFile" $root)
  "REDIS_TLS_SERVERNAME" $v.redis.tls.servername
  "TLS_CERT_FILE" (include "herald.tlsCertFile" $root)
  "TLS_KEY_FILE" (include "herald.tlsKeyFile" $root)
-}}
{{- if and $v.secrets.existingSecret $v.redis.url -}}
{{- $_ := set $plain "REDIS_URL" $v.redis.url -}}
{{- end -}}
{{- $extra := dict -}}
{{- if eq $component "edge" -}}
{{- $e := $v.edge -}}
{{- $extra = dict
  "PORT" $e.port
  "EDGE_WORKERS" $e.workers
  "ALLOWED_ORIGINS" $e.allowedOrigins
  "MAX_CONNECTIONS" $e.maxConnections
  "MAX_CONNECTIONS_PER_USER" $e.maxConnectionsPerUser
  "REBALANCE_THRESHOLD" $e.rebalanceThreshold
  "MAX_SUBSCRIPTIONS_PER_CONNECTION" $e.maxSubscriptionsPerConnection
  "MAX_COMMANDS_PER_SECOND" $e.maxCommandsPerSecond
  "MAX_HANDSHAKES_PER_IP_PER_SECOND" $e.maxHandshakesPerIpPerSecond
  "TRUSTED_PROXIES" $e.trustedProxies
  "MAX_MESSAGE_SIZE" $e.maxMessageSize
  "MAX_BUFFERED_BYTES" $e.maxBufferedBytes
  "WEBSOCKET_PING_INTERVAL" $e.websocket.pingInterval
  "WEBSOCKET_READ_TIMEOUT" $e.websocket.readTimeout
  "WEBSOCKET_WRITE_TIMEOUT" $e.websocket.writeTimeout
  "WEBSOCKET_COMPRESSION" $e.websocket.compression
  "WEBSOCKET_COMPRESSION_THRESHOLD" $e.websocket.compressionThreshold
  "ADMISSION_LEASE_PERIOD" $e.admission.leasePeriod
  "ADMISSION_FALLBACK_PER_NODE" $e.admission.fallbackPerNode
  "CONSOLE_ENABLED" $e.console.enabled
  "CONSOLE_INGEST_URL" $e.console.ingestUrl
-}}
{{- else -}}
{{- $i := $v.ingest -}}
{{- $extra = dict
  "INGEST_PORT" $i.port
  "IDEMPOTENCY_TTL" $i.idempotencyTtl
  "INGEST_PUBLISH_TIMEOUT" $i.publishTimeout
  "REVOCATION_TTL" $i.revocationTtl
  "ROUTES_FILE" (include "herald.routesFile" $root)
  "EVENT_SCHEMAS_DIR" (include "herald.eventSchemasDir" $root)
  "MESSAGE_TYPES_FILE" (include "herald.messageTypesFile" $root)
  "INGEST_STREAM_ENABLED" $i.stream.enabled
  "INGEST_STREAM_CLAIM_IDLE" $i.stream.claimIdle
  "INGEST_STREAM_BATCH" $i.stream.batch
  "CONSOLE_ORIGINS" $i.consoleOrigins
-}}
{{- end -}}
{{- range $name, $value := $extra }}{{ $_ := set $plain $name $value }}{{ end -}}
{{- if $v.nodeId.fromPodName }}
- name: NODE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- range $name := keys $plain | sortAlpha }}
{{- $text := include "herald.scalar" (get $plain $name) }}
{{- if ne $text "" }}
- name: {{ $name }}
  value: {{ $text | quote }}
{{- end }}
{{- end }}
{{- $secretKeys := include "herald.secretKeys" $root | fromJson }}
{{- range $name := keys $secretKeys | sortAlpha }}
{{- if or (not (has $name (list "INGEST_API_KEYS" "ADMIN_API_KEYS"))) (eq $component "ingest") }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "herald.secretName" $root }}
      key: {{ get $secretKeys $name }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Checks the schema cannot express: combinations (the same as the services' own, so a
release never crash-loops on them), minimums of durations and sizes, and the drain.
*/}}
{{- define "herald.validate" -}}
{{- $v := .Values -}}
{{- $existing := $v.secrets.existingSecret -}}
{{- $k := $v.secrets.existingSecretKeys -}}
{{- if $existing -}}
{{- range $path, $value := dict "jwt.secret" $v.jwt.secret "jwt.publicKey" $v.jwt.publicKey "ingest.apiKeys" $v.ingest.apiKeys "ingest.adminApiKeys" $v.ingest.adminApiKeys "redis.password" $v.redis.password -}}
{{- if $value -}}
{{- fail (printf "%s is set while secrets.existingSecret is used: put it in the Secret %q and name its key in secrets.existingSecretKeys" $path $existing) -}}
{{- end -}}
{{- end -}}
{{- if and $v.redis.url $k.redisUrl -}}
{{- fail "redis.url and secrets.existingSecretKeys.redisUrl are both set: keep one" -}}
{{- end -}}
{{- end -}}
{{- $hasUrl := or $v.redis.url (and $existing $k.redisUrl) -}}
{{- $hasCluster := gt (len $v.redis.clusterNodes) 0 -}}
{{- $rt := $v.redis.tls -}}
{{- $plaintextUrl := and $v.redis.url (not (hasPrefix "rediss://" (lower $v.redis.url))) -}}
{{- if and $rt.enabled $plaintextUrl -}}
{{- fail "redis.tls.enabled is for redis.clusterNodes: redis.url is a plaintext redis:// URL, use rediss:// to reach one Redis over TLS" -}}
{{- end -}}
{{- if or (and $rt.caSecretName $rt.caConfigMapName) (and $rt.caFile (or $rt.caSecretName $rt.caConfigMapName)) -}}
{{- fail "redis.tls: set one of caSecretName, caConfigMapName and caFile" -}}
{{- end -}}
{{- if and (or (include "herald.redisTlsCaFile" .) $rt.servername) (or $plaintextUrl (and $hasCluster (not $rt.enabled))) -}}
{{- fail "redis.tls: a CA or servername is set but Redis is reached in plaintext: use a rediss:// redis.url, or redis.tls.enabled with redis.clusterNodes" -}}
{{- end -}}
{{- if and $hasUrl $hasCluster -}}
{{- fail "redis: set exactly one of redis.url (one Redis) and redis.clusterNodes (a Redis Cluster), not both" -}}
{{- end -}}
{{- if not (or $hasUrl $hasCluster) -}}
{{- fail "redis: set exactly one of redis.url (one Redis, e.g. redis://redis:6379) or redis.clusterNodes (a Redis Cluster, e.g. [redis-0:6379]); neither is set. The chart deploys no Redis." -}}
{{- end -}}
{{- $hasSecret := or $v.jwt.secret (and $existing $k.jwtSecret) -}}
{{- $hasPublicKey := or $v.jwt.publicKey (and $existing $k.jwtPublicKey) -}}
{{- if and $hasSecret $hasPublicKey -}}
{{- fail "jwt: JWT_SECRET and JWT_PUBLIC_KEY are exclusive: set one of jwt.secret and jwt.publicKey (or of secrets.existingSecretKeys.jwtSecret and jwtPublicKey)" -}}
{{- end -}}
{{- if not (or $hasSecret $hasPublicKey) -}}
{{- fail "jwt: set jwt.secret (HS256/384/512) or jwt.publicKey (a PEM key for RS*/ES*/PS*), or name their key in secrets.existingSecretKeys with secrets.existingSecret" -}}
{{- end -}}
{{- if and $v.jwt.publicKey (not (regexMatch "-----BEGIN [A-Z ]*PUBLIC KEY-----" $v.jwt.publicKey)) -}}
{{- fail "jwt.publicKey must be a PEM public key (\"-----BEGIN PUBLIC KEY-----...\")" -}}
{{- end -}}
{{- range $alg := $v.jwt.algorithms -}}
{{- if and $hasSecret (not (hasPrefix "HS" $alg)) -}}
{{- fail "jwt.algorithms must list only HS256, HS384 or HS512 with jwt.secret" -}}
{{- end -}}
{{- if and $hasPublicKey (hasPrefix "HS" $alg) -}}
{{- fail "jwt.algorithms must not list HS* algorithms with jwt.publicKey" -}}
{{- end -}}
{{- end -}}
{{- range $key := $v.ingest.apiKeys -}}
{{- if contains "," (toString $key) -}}
{{- fail "ingest.apiKeys: a key must not contain a comma (INGEST_API_KEYS is a comma-separated list)" -}}
{{- end -}}
{{- end -}}
{{- range $key := $v.ingest.adminApiKeys -}}
{{- if contains "," (toString $key) -}}
{{- fail "ingest.adminApiKeys: a key must not contain a comma (ADMIN_API_KEYS is a comma-separated list)" -}}
{{- end -}}
{{- end -}}
{{- if and (has "*" $v.edge.allowedOrigins) (gt (len $v.edge.allowedOrigins) 1) -}}
{{- fail "edge.allowedOrigins must be either [\"*\"] or a list of exact origins, not both" -}}
{{- end -}}
{{- $e := $v.edge -}}
{{- $ping := include "herald.durationMs" (list "edge.websocket.pingInterval" $e.websocket.pingInterval 100) | float64 -}}
{{- $read := include "herald.durationMs" (list "edge.websocket.readTimeout" $e.websocket.readTimeout 100) | float64 -}}
{{- $_ := include "herald.durationMs" (list "edge.websocket.writeTimeout" $e.websocket.writeTimeout 100) -}}
{{- $_ = include "herald.durationMs" (list "edge.admission.leasePeriod" $e.admission.leasePeriod 3000) -}}
{{- $_ = include "herald.durationMs" (list "history.ttl" $v.history.ttl 100) -}}
{{- $_ = include "herald.durationMs" (list "history.metaTtl" $v.history.metaTtl 100) -}}
{{- $_ = include "herald.durationMs" (list "ingest.idempotencyTtl" $v.ingest.idempotencyTtl 1000) -}}
{{- $_ = include "herald.durationMs" (list "ingest.revocationTtl" $v.ingest.revocationTtl 1000) -}}
{{- $_ = include "herald.durationMs" (list "ingest.publishTimeout" $v.ingest.publishTimeout 100) -}}
{{- $_ = include "herald.durationMs" (list "ingest.stream.claimIdle" $v.ingest.stream.claimIdle 100) -}}
{{- if ne (include "herald.scalar" $v.jwt.maxTtl) "" -}}
{{- $_ = include "herald.durationMs" (list "jwt.maxTtl" $v.jwt.maxTtl 1000) -}}
{{- end -}}
{{- $_ = include "herald.sizeBytes" (list "edge.maxMessageSize" $e.maxMessageSize 128) -}}
{{- $_ = include "herald.sizeBytes" (list "edge.maxBufferedBytes" $e.maxBufferedBytes 1024) -}}
{{- $_ = include "herald.sizeBytes" (list "edge.websocket.compressionThreshold" $e.websocket.compressionThreshold 1) -}}
{{- if le $read $ping -}}
{{- fail (printf "edge.websocket.readTimeout (%s) must be longer than edge.websocket.pingInterval (%s)" (include "herald.scalar" $e.websocket.readTimeout) (include "herald.scalar" $e.websocket.pingInterval)) -}}
{{- end -}}
{{- $drain := include "herald.durationMs" (list "shutdown.drainPeriod" $v.shutdown.drainPeriod 0) | float64 -}}
{{- $timeout := include "herald.durationMs" (list "shutdown.timeout" $v.shutdown.timeout 100) | float64 -}}
{{- if ge $drain $timeout -}}
{{- fail (printf "shutdown.drainPeriod (%s) must be shorter than shutdown.timeout (%s)" (include "herald.scalar" $v.shutdown.drainPeriod) (include "herald.scalar" $v.shutdown.timeout)) -}}
{{- end -}}
{{- $_ = include "herald.gracePeriodSeconds" (list . "edge") -}}
{{- $_ = include "herald.gracePeriodSeconds" (list . "ingest") -}}
{{- if and $v.ingest.routesFile (not (kindIs "invalid" $v.ingest.routes)) -}}
{{- fail "ingest.routesFile and ingest.routes are exclusive: a path in the container, or the routes themselves" -}}
{{- end -}}
{{- if and $v.ingest.eventSchemasDir $v.ingest.eventSchemas -}}
{{- fail "ingest.eventSchemasDir and ingest.eventSchemas are exclusive: a directory in the container, or the schemas themselves" -}}
{{- end -}}
{{- if and $v.ingest.messageTypesFile $v.messageTypes -}}
{{- fail "ingest.messageTypesFile and messageTypes are exclusive: a file in the container, or the documents themselves" -}}
{{- end -}}
{{- if and $v.tls.secretName (or $v.tls.certFile $v.tls.keyFile) -}}
{{- fail "tls.secretName and tls.certFile/tls.keyFile are exclusive: a kubernetes.io/tls Secret the chart mounts, or paths of certificates mounted otherwise" -}}
{{- end -}}
{{- if ne (empty $v.tls.certFile) (empty $v.tls.keyFile) -}}
{{- fail "tls.certFile and tls.keyFile go together (TLS_CERT_FILE and TLS_KEY_FILE): set both or neither" -}}
{{- end -}}
{{- if and $v.istio.enabled (include "herald.tls" .) -}}
{{- fail "tls and istio.enabled: with Istio, TLS ends at the gateway and the mesh encrypts pod traffic; leave tls.secretName, tls.certFile and tls.keyFile empty" -}}
{{- end -}}
{{- if and $v.istio.enabled (not $v.istio.hosts) -}}
{{- fail "istio.enabled needs istio.hosts (the hosts clients connect to)" -}}
{{- end -}}
{{- end -}}

{{/*
A Deployment of one component: edge or ingest. Args: root, component.
*/}}
{{- define "herald.deployment" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $c := get $root.Values $component -}}
{{- $v := $root.Values -}}
{{- $name := include "herald.componentName" (list $root $component) -}}
{{- $grace := include "herald.gracePeriodSeconds" (list $root $component) -}}
{{- $tls := include "herald.tls" $root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "herald.componentLabels" (list $root $component) | nindent 4 }}
spec:
  {{- if not (and (eq $component "edge") $c.autoscaling.enabled) }}
  replicas: {{ include "herald.scalar" $c.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ include "herald.scalar" $c.revisionHistoryLimit }}
  {{- if $c.minReadySeconds }}
  minReadySeconds: {{ include "herald.scalar" $c.minReadySeconds }}
  {{- end }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: {{ $c.rollingUpdate.maxUnavailable }}
      maxSurge: {{ $c.rollingUpdate.maxSurge }}
  selector:
    matchLabels:
      {{- include "herald.selectorLabels" (list $root $component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "herald.componentLabels" (list $root $component) | nindent 8 }}
        {{- with $c.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- if $v.istio.enabled }}
        proxy.istio.io/config: {{ dict "terminationDrainDuration" (default (printf "%ss" $grace) $v.istio.terminationDrainDuration) | toJson | quote }}
        {{- end }}
        {{- with $c.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "herald.serviceAccountName" $root }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $grace }}
      {{- with $c.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- if $c.affinity }}
      affinity:
        {{- toYaml $c.affinity | nindent 8 }}
      {{- else }}
      affinity:
        podAntiAffinity:
          {{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "herald.selectorLabels" (list $root $component) | fromYaml)) }}
          {{- if eq (default "soft" $c.podAntiAffinity) "hard" }}
          requiredDuringSchedulingIgnoredDuringExecution:
            {{- list $term | toYaml | nindent 12 }}
          {{- else }}
          preferredDuringSchedulingIgnoredDuringExecution:
            {{- list (dict "weight" 100 "podAffinityTerm" $term) | toYaml | nindent 12 }}
          {{- end }}
      {{- end }}
      {{- with $c.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $component }}
          image: {{ include "herald.image" $root }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: [{{ $component | quote }}]
          ports:
            - name: http
              containerPort: {{ include "herald.scalar" $c.port }}
              protocol: TCP
          env:
            {{- include "herald.env" (list $root $component) | trim | nindent 12 }}
            {{- with $c.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
              {{- if $tls }}
              scheme: HTTPS
              {{- end }}
            periodSeconds: {{ include "herald.scalar" $c.probes.startup.periodSeconds }}
            failureThreshold: {{ include "herald.scalar" $c.probes.startup.failureThreshold }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
              {{- if $tls }}
              scheme: HTTPS
              {{- end }}
            initialDelaySeconds: {{ include "herald.scalar" $c.probes.liveness.initialDelaySeconds }}
            periodSeconds: {{ include "herald.scalar" $c.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ include "herald.scalar" $c.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ include "herald.scalar" $c.probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
              {{- if $tls }}
              scheme: HTTPS
              {{- end }}
            initialDelaySeconds: {{ include "herald.scalar" $c.probes.readiness.initialDelaySeconds }}
            periodSeconds: {{ include "herald.scalar" $c.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ include "herald.scalar" $c.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ include "herald.scalar" $c.probes.readiness.failureThreshold }}
          lifecycle:
            preStop:
              exec:
                # Stay in service while the endpoints are removed; SIGTERM follows.
                command: ["sleep", {{ include "herald.scalar" $c.lifecycle.preStopSleepSeconds | quote }}]
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if and (eq $component "ingest") (not (kindIs "invalid" $c.routes)) (not $c.routesFile) }}
            - name: routes
              mountPath: /etc/herald/routes
              readOnly: true
            {{- end }}
            {{- if and (eq $component "ingest") $c.eventSchemas (not $c.eventSchemasDir) }}
            - name: event-schemas
              mountPath: /etc/herald/event-schemas
              readOnly: true
            {{- end }}
            {{- if and (eq $component "ingest") $v.messageTypes (not $c.messageTypesFile) }}
            - name: message-types
              mountPath: /etc/herald/message-types
              readOnly: true
            {{- end }}
            {{- if or $v.redis.tls.caSecretName $v.redis.tls.caConfigMapName }}
            - name: redis-tls
              mountPath: {{ include "herald.redisTlsMountPath" $root }}
              readOnly: true
            {{- end }}
            {{- if $v.tls.secretName }}
            # Read-only, and rotated in place by the kubelet (a ..data symlink swap),
            # which the services notice within seconds.
            - name: tls
              mountPath: {{ include "herald.tlsMountPath" $root }}
              readOnly: true
            {{- end }}
            {{- with $c.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if and (eq $component "ingest") (not (kindIs "invalid" $c.routes)) (not $c.routesFile) }}
        - name: routes
          configMap:
            name: {{ include "herald.componentName" (list $root "routes") }}
        {{- end }}
        {{- if and (eq $component "ingest") $c.eventSchemas (not $c.eventSchemasDir) }}
        - name: event-schemas
          configMap:
            name: {{ include "herald.componentName" (list $root "event-schemas") }}
        {{- end }}
        {{- if and (eq $component "ingest") $v.messageTypes (not $c.messageTypesFile) }}
        - name: message-types
          configMap:
            name: {{ include "herald.componentName" (list $root "message-types") }}
        {{- end }}
        {{- if $v.redis.tls.caSecretName }}
        - name: redis-tls
          secret:
            secretName: {{ $v.redis.tls.caSecretName }}
            items:
              - key: {{ $v.redis.tls.caKey }}
                path: {{ $v.redis.tls.caKey }}
        {{- else if $v.redis.tls.caConfigMapName }}
        - name: redis-tls
          configMap:
            name: {{ $v.redis.tls.caConfigMapName }}
            items:
              - key: {{ $v.redis.tls.caKey }}
                path: {{ $v.redis.tls.caKey }}
        {{- end }}
        {{- if $v.tls.secretName }}
        - name: tls
          secret:
            secretName: {{ $v.tls.secretName }}
            # Readable by the service's user only (fsGroup owns the files).
            defaultMode: 0440
            items:
              - key: tls.crt
                path: tls.crt
              - key: tls.key
                path: tls.key
        {{- end }}
        {{- with $c.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end -}}
