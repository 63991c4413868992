import { describe, expect, it } from 'vitest';
import { parseClusterNodes, tlsConnectOptions } from './connection.js';

describe('parseClusterNodes', () => {
  it('reads host:port, URLs and objects', () => {
    expect(parseClusterNodes(['10.0.0.1:7000', ' redis-1:7001 ', 'redis://:pw@redis-2:7002', { host: 'h', port: 1 }])).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-1', port: 7001 },
      { host: 'redis-2', port: 7002 },
      { host: 'h', port: 1 },
    ]);
    expect(parseClusterNodes(['[::1]:7000'])).toEqual([{ host: '::1', port: 7000 }]);
    expect(parseClusterNodes(['redis-3'])).toEqual([{ host: 'redis-3', port: 6379 }]);
  });

  it('refuses an empty list and a bad port', () => {
    expect(() => parseClusterNodes([])).toThrow(TypeError);
    expect(() => parseClusterNodes(['host:99999'])).toThrow();
  });
});

describe('tlsConnectOptions', () => {
  it('is plaintext for redis:// and for a cluster without tls', () => {
    expect(tlsConnectOptions({ url: 'redis://127.0.0.1:6379' })).toBeUndefined();
    expect(tlsConnectOptions({ clusterNodes: ['a:1'] })).toBeUndefined();
  });

  it('checks certificates for rediss:// and a cluster with tls, with the CA and name given', () => {
    expect(tlsConnectOptions({ url: 'rediss://127.0.0.1:6380' })).toEqual({ rejectUnauthorized: true });
    expect(tlsConnectOptions({ url: 'REDISS://h:1', tls: { ca: 'PEM', servername: 'redis.internal' } })).toEqual({ rejectUnauthorized: true, ca: 'PEM', servername: 'redis.internal' });
    expect(tlsConnectOptions({ clusterNodes: ['a:1'], tls: {} })).toEqual({ rejectUnauthorized: true });
  });

  it('refuses TLS options for a plaintext URL rather than ignoring them', () => {
    expect(() => tlsConnectOptions({ url: 'redis://h:1', tls: { ca: 'PEM' } })).toThrow(/rediss:\/\//);
  });
});
