/**
 * Every environment variable Herald reads, in one table. The services read their
 * settings only through `loadConfig`, the operator guide's table is generated from
 * this, and a test checks that the Helm chart has a value for each entry.
 */
import { addressList, boolean, duration, integer, limit, list, oneOf, optionalDuration, optionalRatio, port, redisUrl, size, text, workers } from './config-kinds.js';

const BOTH = ['edge', 'ingest'] as const;
const EDGE = ['edge'] as const;
const INGEST = ['ingest'] as const;

export const CONFIG_SCHEMA = {
  // Process
  NODE_ID: text({ services: BOTH, description: 'Node name in logs, metrics and the `connected` frame. Default: hostname plus a random suffix.', pattern: /^[A-Za-z0-9_.-]{1,64}$/, expected: '1 to 64 letters, digits, ".", "_" or "-"' }),
  LOG_LEVEL: oneOf({ services: BOTH, description: 'pino log level.', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  LOG_FORMAT: oneOf({ services: BOTH, description: 'Log output: `json` (one record per line), `pretty` (pino-pretty, for a terminal), or `auto`: pretty for `herald start` when stdout is a terminal, JSON otherwise.', default: 'auto', values: ['auto', 'json', 'pretty'] }),
  HOST: text({ services: BOTH, description: 'Address the HTTP servers listen on.', default: '0.0.0.0' }),
  PORT: port({ services: EDGE, description: 'Edge port: `/v1/ws`, health and metrics. In `herald start`, every route.', default: 8080 }),
  EDGE_WORKERS: workers({ services: EDGE, description: '`herald edge` processes sharing PORT (node:cluster): each its own admission node and broker subscriber, one `/metrics` and `/readyz` for all, SIGTERM drains them together, a crashed one is restarted. `auto`: one per CPU core. Needs Redis (not `herald start`).', default: 1, max: 64 }),
  INGEST_PORT: port({ services: INGEST, description: 'Ingest port: `/v1/events`, health and metrics.', default: 8081 }),

  // Authentication
  JWT_SECRET: text({ services: BOTH, description: 'HMAC secret for HS256/HS384/HS512 tokens. `herald start` generates one when unset.', secret: true }),
  JWT_PUBLIC_KEY: text({ services: BOTH, description: 'PEM public key for RS*/ES*/PS* tokens (instead of JWT_SECRET).', secret: true }),
  JWT_ALGORITHMS: list({ services: BOTH, description: 'Allowed JWT algorithms. Default: HS256 with JWT_SECRET, RS256 and ES256 with JWT_PUBLIC_KEY. `none` is never allowed.', item: /^(HS256|HS384|HS512|RS256|RS384|RS512|ES256|ES384|ES512|PS256|PS384|PS512)$/, expected: 'a comma-separated list of HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512' }),
  JWT_ISSUER: text({ services: BOTH, description: 'Required `iss` claim, when set.' }),
  JWT_AUDIENCE: text({ services: BOTH, description: 'Required `aud` claim, when set.' }),
  JWT_REQUIRE_EXP: boolean({ services: BOTH, description: 'Refuse tokens without an `exp` claim (the Helm chart turns this on).', default: false }),
  JWT_MAX_TTL: optionalDuration({ services: BOTH, description: 'Refuse tokens that live longer than this (`exp - iat`, or `exp` - now without `iat`); tokens without `exp` are then refused too. Unset: no limit.', min: 1_000 }),
  INGEST_API_KEYS: list({ services: INGEST, description: 'Static bearer keys accepted by the ingest API, besides JWTs with scope `events:publish`.', secret: true }),
  ADMIN_API_KEYS: list({ services: INGEST, description: 'Static bearer keys accepted by the ingest\'s admin API (`POST /v1/users/{sub}:disconnect`), besides JWTs with scope `admin`. INGEST_API_KEYS are refused there (403).', secret: true }),
  REVOCATION_TTL: duration({ services: INGEST, description: 'How long a revocation (`POST /v1/users/{sub}:disconnect`) refuses the handshakes and refreshes of that `sub`\'s tokens issued before its instant. Set it above your tokens\' lifetime (JWT_MAX_TTL) so that no revoked token outlives it.', default: '24h', min: 1_000 }),

  // TLS (PROTOCOL.md section 12). The files are read and checked at start and watched
  // afterwards (tls.ts): loadConfig only sees names, so `herald check`-like callers
  // and the chart's tests can validate a configuration without the certificates.
  TLS_CERT_FILE: text({ services: BOTH, description: 'PEM certificate (chain) file: the edge serves `wss://` and `https://`, the ingest `https://`, on the same ports. Needs TLS_KEY_FILE. A changed file is picked up within 10 s for new connections (existing ones stay).' }),
  TLS_KEY_FILE: text({ services: BOTH, description: 'PEM private key file (unencrypted) of TLS_CERT_FILE\'s certificate. Needs TLS_CERT_FILE.' }),
  TLS: text({ services: BOTH, description: '`self-signed`: `herald start` makes a certificate for `localhost` and `127.0.0.1` at start, writes it to a file and prints its path. Only `herald start` accepts it; edge and ingest take TLS_CERT_FILE and TLS_KEY_FILE.', pattern: /^self-signed$/, expected: '"self-signed" or unset' }),

  // Handshake and limits
  ALLOWED_ORIGINS: list({ services: EDGE, description: 'Exact origins allowed to connect, or `*`. Unset: any origin.' }),
  MAX_CONNECTIONS: limit({ services: EDGE, description: 'Cluster-wide connection limit.' }),
  MAX_CONNECTIONS_PER_USER: limit({ services: EDGE, description: 'Connections per token `sub`, cluster-wide.' }),
  REBALANCE_THRESHOLD: optionalRatio({ services: EDGE, description: 'A node with more connections than this times the cluster average (per node, from the connection counter) closes the excess with 1001, at most 1% of its connections per second, down to the average: it evens the load after a rolling restart. Off by default.', min: 1, max: 10 }),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: integer({ services: EDGE, description: 'Channels one connection may subscribe to.', default: 100, min: 1 }),
  MAX_HANDSHAKES_PER_IP_PER_SECOND: limit({ services: EDGE, description: 'WebSocket upgrades accepted per client address per second on each edge process (each EDGE_WORKERS worker counts alone), before the token is checked; over it: 429 `rate-limited` with `Retry-After`. IPv6 clients are counted per /64. Unset: no limit.' }),
  TRUSTED_PROXIES: addressList({ services: EDGE, description: 'IP addresses and CIDR ranges of proxies whose `X-Forwarded-For` is believed: the client is the right-most address in it that is not one of them. Unset: the header is ignored and the peer address is the client.' }),
  MAX_COMMANDS_PER_SECOND: integer({ services: EDGE, description: 'Commands per connection per second (token bucket, burst of the same size).', default: 50, min: 1 }),
  MAX_MESSAGE_SIZE: size({ services: EDGE, description: 'Largest client frame; larger ones close 1009.', default: '64KiB', min: 128 }),
  MAX_BUFFERED_BYTES: size({ services: EDGE, description: 'Unsent bytes allowed per connection before it is closed 1008 (slow consumer).', default: '1MiB', min: 1024 }),

  // Heartbeats and timeouts
  WEBSOCKET_PING_INTERVAL: duration({ services: EDGE, description: 'Protocol ping interval.', default: '30s', min: 100 }),
  WEBSOCKET_READ_TIMEOUT: duration({ services: EDGE, description: 'A connection silent this long (no pong, no frame) is terminated.', default: '60s', min: 100 }),
  WEBSOCKET_WRITE_TIMEOUT: duration({ services: EDGE, description: 'A connection whose send buffer has not drained for this long is terminated.', default: '10s', min: 100 }),
  WEBSOCKET_COMPRESSION: boolean({ services: EDGE, description: 'Offer permessage-deflate; each event is compressed once per node, not per connection.', default: false }),
  WEBSOCKET_COMPRESSION_THRESHOLD: size({ services: EDGE, description: 'Events smaller than this are sent uncompressed.', default: '256', min: 1 }),

  // Console (docs/operations.md, "Console")
  CONSOLE_ENABLED: boolean({ services: EDGE, description: 'Serve the live web console at `/console` (sign-in with a token of scope `admin`) and publish this node\'s stats once a second on the system channel `_herald:stats`. Turn it on for every edge of a cluster, or the console misses the nodes without it. `herald start` turns it on unless set to `false`.', default: false }),
  CONSOLE_INGEST_URL: text({ services: EDGE, description: 'Where the console\'s test-publish form posts (`<url>/v1/events`) when the ingest is not on the console\'s origin, for example `https://ingest.example.com`; that ingest then needs the console\'s origin in CONSOLE_ORIGINS. Unset: the console\'s own origin (`herald start`, or a proxy routing `/v1/events` to the ingest).', pattern: /^https?:\/\/[^\s/?#]+$/, expected: 'an http:// or https:// origin without a path, e.g. https://ingest.example.com' }),
  CONSOLE_ORIGINS: list({ services: INGEST, description: 'Origins of consoles served by the edges (e.g. `https://edge.example.com`) allowed to call `POST /v1/events` from a browser: the ingest answers CORS for these exact origins only. Unset: no CORS (same-origin only).', item: /^https?:\/\/[^\s/?#]+$/, expected: 'a comma-separated list of http:// or https:// origins without a path' }),

  // Shutdown
  SHUTDOWN_DRAIN_PERIOD: duration({ services: BOTH, description: 'Connections are closed with 1001 spread over this period on SIGTERM.', default: '10s', min: 0 }),
  SHUTDOWN_TIMEOUT: duration({ services: BOTH, description: 'The process exits before this, whatever remains.', default: '25s', min: 100 }),

  // History
  HISTORY_SIZE: integer({ services: BOTH, description: 'Events kept per channel for recovery.', default: 1000, min: 1 }),
  HISTORY_TTL: duration({ services: BOTH, description: 'How long events are kept per channel.', default: '10m', min: 100 }),
  HISTORY_META_TTL: duration({ services: BOTH, description: 'How long a quiet channel\'s position is remembered after its history expired.', default: '30d', min: 100 }),

  // Ingest
  IDEMPOTENCY_TTL: duration({ services: INGEST, description: 'Window in which a repeated event id is accepted but not published again.', default: '24h', min: 1_000 }),
  ROUTES_FILE: text({ services: INGEST, description: 'JSON file of routes (event type pattern to channel templates). Unset: the default payment routes.' }),
  EVENT_SCHEMAS_DIR: text({ services: INGEST, description: 'Directory of `<event type>.json` JSON Schemas registered besides the built-in payment types.' }),
  MESSAGE_TYPES_FILE: text({ services: INGEST, description: 'YAML file of `WebSocketMessageType` documents (`apiVersion: api.example.com/v1`), listing event types, each with a description and the JSON Schema of `data`; a type listed replaces the built-in one of the same name.' }),
  INGEST_PUBLISH_TIMEOUT: duration({ services: INGEST, description: 'How long the ingest keeps trying to store an event (following a Redis Cluster through slot moves and a failover) before it answers 503 `broker-unavailable`. Above the cluster\'s failover time (`cluster-node-timeout` plus a few seconds).', default: '10s', min: 100 }),
  INGEST_MAX_DEPTH: integer({ services: BOTH, description: 'Deepest nesting of objects and arrays accepted in an ingest event\'s `data` and in an edge command frame; deeper input is refused before anything walks it.', default: 32, min: 1, max: 1_000 }),
  INGEST_STREAM_ENABLED: boolean({ services: INGEST, description: 'Consume the Redis stream `<prefix>:ingest` (needs Redis).', default: true }),
  INGEST_STREAM_CLAIM_IDLE: duration({ services: INGEST, description: 'Pending stream entries idle this long are claimed from a crashed consumer.', default: '30s', min: 100 }),
  INGEST_STREAM_BATCH: integer({ services: INGEST, description: 'Stream entries read per XREADGROUP.', default: 100, min: 1, max: 10_000 }),

  // Redis
  REDIS_URL: redisUrl({ services: BOTH, description: 'One Redis: `redis://[:password@]host:port[/db]` or `rediss://`.' }),
  REDIS_CLUSTER_NODES: list({ services: BOTH, description: 'Redis Cluster seed nodes `host:port,...` (sharded pub/sub).', item: /^[^\s:]+:\d{1,5}$/, expected: 'a comma-separated list of host:port' }),
  REDIS_PASSWORD: text({ services: BOTH, description: 'Password for REDIS_CLUSTER_NODES (for one Redis, put it in REDIS_URL).', secret: true }),
  REDIS_TLS: boolean({ services: BOTH, description: 'Reach every node of REDIS_CLUSTER_NODES over TLS (for REDIS_URL, use a `rediss://` URL).', default: false }),
  REDIS_TLS_CA_FILE: text({ services: BOTH, description: 'PEM file of the CA certificate(s) Redis server certificates are checked against, instead of the public CAs; read and checked at start. Needs `rediss://` or REDIS_TLS.' }),
  REDIS_TLS_SERVERNAME: text({ services: BOTH, description: 'Name the Redis server certificates must carry, also sent as SNI. Default: the host connected to (for cluster nodes, the address in the slot map). Needs `rediss://` or REDIS_TLS.' }),
  REDIS_KEY_PREFIX: text({ services: BOTH, description: 'Prefix of every Redis key and channel Herald uses.', default: 'herald', pattern: /^[A-Za-z0-9_.-]{1,64}$/, expected: '1 to 64 letters, digits, ".", "_" or "-"' }),

  // Admission
  ADMISSION_LEASE_PERIOD: duration({ services: EDGE, description: 'Length of each edge\'s connection-count lease, renewed every third of it; a dead node\'s count is reclaimed within two periods.', default: '15s', min: 3_000 }),
  ADMISSION_FALLBACK_PER_NODE: limit({ services: EDGE, description: 'While Redis is unreachable, each edge admits at most this many connections on its own, counted and logged. Default: MAX_CONNECTIONS.' }),
} as const;

export type ConfigSchema = typeof CONFIG_SCHEMA;
export type ConfigName = keyof ConfigSchema;
export type HeraldConfig = {
  readonly [K in ConfigName]: ConfigSchema[K] extends { absent: infer T } ? T : never;
};
