import { describe, expect, it } from 'vitest';
import { ClientAddresses, counterKey } from './client-address.js';

describe('ClientAddresses', () => {
  it('takes the peer address, and ignores X-Forwarded-For without trusted proxies', () => {
    const addresses = new ClientAddresses([]);
    expect(addresses.clientOf('203.0.113.7', undefined)).toBe('203.0.113.7');
    expect(addresses.clientOf('203.0.113.7', '198.51.100.1')).toBe('203.0.113.7');
    expect(addresses.clientOf('::ffff:203.0.113.7', undefined)).toBe('203.0.113.7');
    expect(addresses.clientOf(undefined, '198.51.100.1')).toBe('unknown');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const addresses = new ClientAddresses(['10.0.0.0/8']);
    expect(addresses.clientOf('203.0.113.7', '198.51.100.1')).toBe('203.0.113.7');
  });

  it('takes the right-most untrusted address behind trusted proxies', () => {
    const addresses = new ClientAddresses(['10.0.0.0/8', '192.168.1.10', 'fd00::/8']);
    expect(addresses.clientOf('10.1.2.3', '198.51.100.1')).toBe('198.51.100.1');
    // The client may prepend anything; only what the trusted hops appended counts.
    expect(addresses.clientOf('10.1.2.3', '1.1.1.1, 198.51.100.1, 192.168.1.10')).toBe('198.51.100.1');
    expect(addresses.clientOf('::ffff:10.1.2.3', ['1.1.1.1', '198.51.100.2, 10.9.9.9'])).toBe('198.51.100.2');
    expect(addresses.clientOf('fd00::1', '2001:db8::5, fd12::9')).toBe('2001:db8::5');
    // Ports and brackets some proxies add.
    expect(addresses.clientOf('10.1.2.3', '198.51.100.1:4711')).toBe('198.51.100.1');
    expect(addresses.clientOf('10.1.2.3', '[2001:db8::5]:4711')).toBe('2001:db8::5');
  });

  it('stops at a malformed entry, and takes the furthest hop when every hop is trusted', () => {
    const addresses = new ClientAddresses(['10.0.0.0/8']);
    expect(addresses.clientOf('10.1.2.3', '198.51.100.1, not-an-ip, 10.0.0.9')).toBe('10.0.0.9');
    expect(addresses.clientOf('10.1.2.3', '')).toBe('10.1.2.3');
    expect(addresses.clientOf('10.1.2.3', '10.0.0.8, 10.0.0.9')).toBe('10.0.0.8');
  });

  it('examines a bounded number of hops', () => {
    const addresses = new ClientAddresses(['10.0.0.0/8']);
    const chain = ['198.51.100.1', ...Array.from({ length: 1_000 }, (_, i) => `10.0.${i % 250}.1`)].join(',');
    expect(addresses.clientOf('10.1.2.3', chain)).toMatch(/^10\./);
  });
});

describe('counterKey', () => {
  it('keeps IPv4 and groups IPv6 by /64', () => {
    expect(counterKey('203.0.113.7')).toBe('203.0.113.7');
    expect(counterKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(counterKey('2001:db8:1:2::1')).toBe(counterKey('2001:0db8:0001:0002:ffff::9'));
    expect(counterKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(counterKey('::1')).toBe('0:0:0:0::/64');
    expect(counterKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(counterKey('64:ff9b::192.0.2.33')).toBe('64:ff9b:0:0::/64');
    expect(counterKey('1:2:3:4:5:6:192.0.2.33')).toBe('1:2:3:4::/64');
  });
});
