import { describe, expect, it } from 'vitest';
import { ConfigError, jwtAlgorithms, loadConfig } from './config.js';
import { parseDuration, parseSize } from './units.js';

describe('units', () => {
  it('parses durations with ms, s, m, h, d', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('ten s')).toBeUndefined();
  });
  it('parses sizes in bytes and binary units', () => {
    expect(parseSize('65536')).toBe(65_536);
    expect(parseSize('64KiB')).toBe(65_536);
    expect(parseSize('1MiB')).toBe(1_048_576);
    expect(parseSize('1MB')).toBe(1_000_000);
    expect(parseSize('lots')).toBeUndefined();
  });
});

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({}, ['edge', 'ingest']);
    expect(config.PORT).toBe(8080);
    expect(config.INGEST_PORT).toBe(8081);
    expect(config.WEBSOCKET_PING_INTERVAL).toBe(30_000);
    expect(config.WEBSOCKET_READ_TIMEOUT).toBe(60_000);
    expect(config.WEBSOCKET_WRITE_TIMEOUT).toBe(10_000);
    expect(config.MAX_BUFFERED_BYTES).toBe(1_048_576);
    expect(config.MAX_MESSAGE_SIZE).toBe(65_536);
    expect(config.MAX_SUBSCRIPTIONS_PER_CONNECTION).toBe(100);
    expect(config.MAX_COMMANDS_PER_SECOND).toBe(50);
    expect(config.MAX_CONNECTIONS).toBeNull();
    expect(config.HISTORY_SIZE).toBe(1000);
    expect(config.HISTORY_TTL).toBe(600_000);
    expect(config.IDEMPOTENCY_TTL).toBe(86_400_000);
    expect(config.SHUTDOWN_DRAIN_PERIOD).toBe(10_000);
    expect(config.SHUTDOWN_TIMEOUT).toBe(25_000);
    expect(config.REDIS_KEY_PREFIX).toBe('herald');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['WEBSOCKET_PING_INTERVAL', '10'],
    ['MAX_BUFFERED_BYTES', 'lots'],
    ['MAX_CONNECTIONS', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['JWT_ALGORITHMS', 'none'],
    ['REDIS_URL', 'http://x'],
    ['REDIS_URL', 'redis://:pw@127.0.0.1:notaport'],
    ['REDIS_URL', 'redis://127.0.0.1:70000'],
    ['REDIS_URL', 'redis://'],
    ['REDIS_URL', 'redis://127.0.0.1:6379/zero'],
    ['REDIS_CLUSTER_NODES', 'host-without-port'],
  ])('names %s when its value %s is bad', (name, value) => {
    expect(() => loadConfig({ [name]: value }, ['edge', 'ingest'])).toThrow(expect.objectContaining({ variable: name, message: expect.stringMatching(new RegExp(`^${name} `)) }));
  });

  it('never prints a secret value', () => {
    try {
      loadConfig({ JWT_SECRET: 'abc', JWT_PUBLIC_KEY: 'not a pem' }, ['edge']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).not.toContain('abc');
    }
  });

  it('accepts the Redis URLs ioredis reads', () => {
    for (const url of ['redis://127.0.0.1', 'redis://127.0.0.1:6379', 'rediss://user:pw@redis.example:6380/2', 'redis://:p%40ss@[::1]:6379/']) {
      expect(loadConfig({ REDIS_URL: url }, ['edge']).REDIS_URL).toBe(url);
    }
  });

  it('shows a refused Redis URL with its password masked', () => {
    for (const url of ['redis://:s3cretpw@127.0.0.1:notaport', 'http://user:s3cretpw@127.0.0.1:6379']) {
      try {
        loadConfig({ REDIS_URL: url }, ['edge']);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).not.toContain('s3cretpw');
        expect((error as Error).message).toContain(':***@127.0.0.1');
      }
    }
  });

  it('reads REBALANCE_THRESHOLD as a ratio above 1, or off', () => {
    expect(loadConfig({}, ['edge']).REBALANCE_THRESHOLD).toBeNull();
    expect(loadConfig({ REBALANCE_THRESHOLD: '1.2' }, ['edge']).REBALANCE_THRESHOLD).toBe(1.2);
    expect(loadConfig({ REBALANCE_THRESHOLD: 'off' }, ['edge']).REBALANCE_THRESHOLD).toBeNull();
    for (const bad of ['1', '0.9', '11', '20%', 'on']) expect(() => loadConfig({ REBALANCE_THRESHOLD: bad }, ['edge'])).toThrow(/REBALANCE_THRESHOLD/);
  });

  it('checks combinations', () => {
    expect(() => loadConfig({ WEBSOCKET_PING_INTERVAL: '2m', WEBSOCKET_READ_TIMEOUT: '1m' }, ['edge'])).toThrow(/WEBSOCKET_READ_TIMEOUT/);
    expect(() => loadConfig({ SHUTDOWN_DRAIN_PERIOD: '30s' }, ['edge'])).toThrow(/SHUTDOWN_DRAIN_PERIOD/);
    expect(() => loadConfig({ JWT_SECRET: 's', JWT_ALGORITHMS: 'RS256' }, ['edge'])).toThrow(/JWT_ALGORITHMS/);
    expect(() => loadConfig({ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'a:1' }, ['edge'])).toThrow(/exclusive/);
  });

  it('only validates the variables of the services it loads', () => {
    expect(() => loadConfig({ PORT: 'abc' }, ['ingest'])).not.toThrow();
  });

  it('defaults the JWT algorithms by key kind', () => {
    expect(jwtAlgorithms(loadConfig({ JWT_SECRET: 's' }, ['edge']))).toEqual(['HS256']);
    expect(jwtAlgorithms(loadConfig({ JWT_SECRET: 's', JWT_ALGORITHMS: 'HS512,HS256' }, ['edge']))).toEqual(['HS512', 'HS256']);
  });
});

describe('TLS settings', () => {
  const variable = (fn: () => unknown): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (error) {
      return error instanceof ConfigError ? error.variable : 'not a ConfigError';
    }
  };

  it('takes TLS_CERT_FILE and TLS_KEY_FILE together or not at all, without reading them', () => {
    expect(loadConfig({ TLS_CERT_FILE: '/nowhere/tls.crt', TLS_KEY_FILE: '/nowhere/tls.key' }, ['edge']).TLS_CERT_FILE).toBe('/nowhere/tls.crt');
    expect(variable(() => loadConfig({ TLS_CERT_FILE: '/a.crt' }, ['edge']))).toBe('TLS_KEY_FILE');
    expect(variable(() => loadConfig({ TLS_KEY_FILE: '/a.key' }, ['ingest']))).toBe('TLS_CERT_FILE');
  });

  it('takes TLS=self-signed only where both services run (herald start), and not with files', () => {
    expect(loadConfig({ TLS: 'self-signed' }, ['edge', 'ingest']).TLS).toBe('self-signed');
    expect(variable(() => loadConfig({ TLS: 'self-signed' }, ['edge']))).toBe('TLS');
    expect(variable(() => loadConfig({ TLS: 'self-signed' }, ['ingest']))).toBe('TLS');
    expect(variable(() => loadConfig({ TLS: 'true' }, ['edge', 'ingest']))).toBe('TLS');
    expect(variable(() => loadConfig({ TLS: 'self-signed', TLS_CERT_FILE: '/a', TLS_KEY_FILE: '/b' }, ['edge', 'ingest']))).toBe('TLS');
  });
});
