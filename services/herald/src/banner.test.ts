import { describe, expect, it } from 'vitest';
import { heraldCommand, startBanner } from './banner.js';

describe('heraldCommand', () => {
  it('is npm run herald -- when herald came from the repository\'s npm scripts', () => {
    expect(heraldCommand({ npm_package_name: 'herald', npm_lifecycle_event: 'start' }, '/repo/services/herald/dist/main.js')).toBe('npm run herald --');
    expect(heraldCommand({ npm_package_name: 'herald', npm_lifecycle_event: 'herald' }, '/repo/services/herald/dist/main.js')).toBe('npm run herald --');
  });

  it('is this script by its path otherwise, quoted for the shell when it needs to be', () => {
    expect(heraldCommand({}, '/app/services/herald/dist/main.js')).toBe('node /app/services/herald/dist/main.js');
    expect(heraldCommand({ npm_package_name: 'my-app', npm_lifecycle_event: 'start' }, '/x/main.js')).toBe('node /x/main.js');
    expect(heraldCommand({}, "/home/o'neil/my repo/main.js")).toBe(`node '/home/o'\\''neil/my repo/main.js'`);
  });
});

describe('startBanner', () => {
  it('prints tail and publish lines carrying their URL, token and certificate', () => {
    const text = startBanner({ secret: 's'.repeat(32), host: '0.0.0.0', port: 8443, generated: true, tls: true, selfSignedCert: '/tmp/c/cert.pem', command: 'herald' });
    expect(text).toMatch(/^ {2}NODE_EXTRA_CA_CERTS="\/tmp\/c\/cert\.pem" EDGE_URL=wss:\/\/127\.0\.0\.1:8443 HERALD_TOKEN=eyJ\S+ herald tail merchant:m_42$/m);
    expect(text).toMatch(/^ {2}NODE_EXTRA_CA_CERTS="\/tmp\/c\/cert\.pem" INGEST_URL=https:\/\/127\.0\.0\.1:8443 INGEST_API_KEY=eyJ\S+ herald publish --type payment\.created --data '\{"payment_id":"pay_456",.*\}'$/m);
    expect(text).not.toContain('s'.repeat(32));
  });
});
