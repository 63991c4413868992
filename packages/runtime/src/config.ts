/**
 * Loads and validates configuration from the environment. A bad value throws a
 * ConfigError whose message is one line naming the variable and what it expected.
 */
import { CONFIG_SCHEMA, type ConfigName, type HeraldConfig } from './config-schema.js';
import type { Service } from './config-kinds.js';
import type { JwtVerification } from './jwt.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Parses every variable the given services read; the others keep their defaults.
 * Throws ConfigError on the first bad value, then checks combinations.
 */
export function loadConfig(env: Environment, services: readonly Service[]): HeraldConfig {
  const config: Record<string, unknown> = {};
  for (const name of Object.keys(CONFIG_SCHEMA) as ConfigName[]) {
    const spec = CONFIG_SCHEMA[name];
    const raw = env[name];
    const used = spec.services.some((service) => services.includes(service));
    if (raw === undefined || !used) {
      config[name] = spec.absent;
      continue;
    }
    const parsed = spec.parse(raw);
    if (!parsed.ok) {
      const text = spec.display ? spec.display(raw) : raw;
      const shown = 'secret' in spec && spec.secret ? '' : ` (got "${text.length > 80 ? `${text.slice(0, 80)}...` : text}")`;
      throw new ConfigError(name, `${name} must be ${parsed.expected}${shown}`);
    }
    config[name] = parsed.value;
  }
  const result = config as HeraldConfig;
  checkCombinations(result, services);
  return result;
}

const HMAC = /^HS/;

function checkCombinations(config: HeraldConfig, services: readonly Service[]): void {
  if (config.JWT_SECRET !== undefined && config.JWT_PUBLIC_KEY !== undefined) {
    throw new ConfigError('JWT_PUBLIC_KEY', 'JWT_SECRET and JWT_PUBLIC_KEY are exclusive: set one of them');
  }
  if (config.JWT_ALGORITHMS.length > 0) {
    const hmac = config.JWT_ALGORITHMS.filter((alg) => HMAC.test(alg));
    if (config.JWT_SECRET !== undefined && hmac.length !== config.JWT_ALGORITHMS.length) {
      throw new ConfigError('JWT_ALGORITHMS', 'JWT_ALGORITHMS must list only HS256, HS384 or HS512 with JWT_SECRET');
    }
    if (config.JWT_PUBLIC_KEY !== undefined && hmac.length > 0) {
      throw new ConfigError('JWT_ALGORITHMS', 'JWT_ALGORITHMS must not list HS* algorithms with JWT_PUBLIC_KEY');
    }
  }
  if (config.JWT_PUBLIC_KEY !== undefined && !/-----BEGIN [A-Z ]*PUBLIC KEY-----/.test(config.JWT_PUBLIC_KEY)) {
    throw new ConfigError('JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY must be a PEM public key ("-----BEGIN PUBLIC KEY-----...")');
  }
  if (config.REDIS_URL !== undefined && config.REDIS_CLUSTER_NODES.length > 0) {
    throw new ConfigError('REDIS_CLUSTER_NODES', 'REDIS_URL and REDIS_CLUSTER_NODES are exclusive: set one of them');
  }
  checkRedisTls(config);
  if (services.includes('edge') && config.WEBSOCKET_READ_TIMEOUT <= config.WEBSOCKET_PING_INTERVAL) {
    throw new ConfigError('WEBSOCKET_READ_TIMEOUT', `WEBSOCKET_READ_TIMEOUT must be longer than WEBSOCKET_PING_INTERVAL (${config.WEBSOCKET_PING_INTERVAL}ms)`);
  }
  if (config.SHUTDOWN_DRAIN_PERIOD >= config.SHUTDOWN_TIMEOUT) {
    throw new ConfigError('SHUTDOWN_DRAIN_PERIOD', `SHUTDOWN_DRAIN_PERIOD must be shorter than SHUTDOWN_TIMEOUT (${config.SHUTDOWN_TIMEOUT}ms)`);
  }
  if (services.includes('ingest') && services.includes('edge') && config.EDGE_WORKERS > 1) {
    throw new ConfigError('EDGE_WORKERS', 'EDGE_WORKERS above 1 needs the Redis broker that workers share: run `herald edge`, not `herald start`');
  }
  if ((config.TLS_CERT_FILE === undefined) !== (config.TLS_KEY_FILE === undefined)) {
    const missing = config.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    throw new ConfigError(missing, `${missing} must be set too: TLS_CERT_FILE and TLS_KEY_FILE go together`);
  }
  if (config.TLS !== undefined) {
    // Only `herald start` reads both services; a self-signed certificate belongs to a laptop, not a cluster.
    if (!(services.includes('edge') && services.includes('ingest'))) {
      throw new ConfigError('TLS', 'TLS=self-signed is for `herald start` only: give edge and ingest TLS_CERT_FILE and TLS_KEY_FILE');
    }
    if (config.TLS_CERT_FILE !== undefined) {
      throw new ConfigError('TLS', 'TLS=self-signed and TLS_CERT_FILE/TLS_KEY_FILE are exclusive: set one of them');
    }
  }
  if (config.ALLOWED_ORIGINS.includes('*') && config.ALLOWED_ORIGINS.length > 1) {
    throw new ConfigError('ALLOWED_ORIGINS', 'ALLOWED_ORIGINS must be either "*" or a list of exact origins, not both');
  }
}

/**
 * Redis over TLS is asked for by the URL scheme (one Redis) or REDIS_TLS (a cluster).
 * A contradiction, or TLS settings for a Redis reached in plaintext, is refused: the
 * operator meant TLS, and Herald must not quietly connect without it.
 */
function checkRedisTls(config: HeraldConfig): void {
  const url = config.REDIS_URL;
  const plaintextUrl = url !== undefined && !/^rediss:\/\//i.test(url);
  if (config.REDIS_TLS && plaintextUrl) {
    throw new ConfigError('REDIS_TLS', 'REDIS_TLS=true but REDIS_URL is a plaintext redis:// URL: use rediss:// to reach one Redis over TLS');
  }
  const tls = url !== undefined ? !plaintextUrl : config.REDIS_CLUSTER_NODES.length > 0 && config.REDIS_TLS;
  const redis = url !== undefined || config.REDIS_CLUSTER_NODES.length > 0;
  for (const name of ['REDIS_TLS_CA_FILE', 'REDIS_TLS_SERVERNAME'] as const) {
    if (redis && !tls && config[name] !== undefined) {
      const how = url !== undefined ? 'a rediss:// REDIS_URL' : 'REDIS_TLS=true with REDIS_CLUSTER_NODES';
      throw new ConfigError(name, `${name} is set but Redis is reached in plaintext: use ${how}`);
    }
  }
}

/** The JWT algorithms actually allowed, with the defaults of CONFIG_SCHEMA applied. */
export function jwtAlgorithms(config: HeraldConfig): string[] {
  if (config.JWT_ALGORITHMS.length > 0) return [...config.JWT_ALGORITHMS];
  return config.JWT_PUBLIC_KEY !== undefined ? ['RS256', 'ES256'] : ['HS256'];
}

export function jwtVerification(config: HeraldConfig): JwtVerification {
  return {
    secret: config.JWT_SECRET,
    publicKey: config.JWT_PUBLIC_KEY,
    algorithms: jwtAlgorithms(config),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    requireExp: config.JWT_REQUIRE_EXP,
    maxTtlMs: config.JWT_MAX_TTL,
  };
}
