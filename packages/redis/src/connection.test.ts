import { describe, expect, it } from 'vitest';
import { parseClusterNodes } from './connection.js';

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
