/** What `herald start` prints when it generated a secret: tokens and copy-paste commands. */
import { mintToken } from './tokens.js';

export const DEMO_MERCHANT = 'm_42';

export interface BannerOptions {
  secret: string;
  host: string;
  port: number;
  generated: boolean;
  /** The self-signed certificate's file, with TLS=self-signed. */
  selfSignedCert?: string | undefined;
  /** Served over TLS (https://, wss://). */
  tls?: boolean;
}

export function startBanner(options: BannerOptions): string {
  const { base, ws } = addresses(options);
  const cert = options.selfSignedCert;
  const clientToken = mintToken(options.secret, { sub: 'demo-user', channels: [`merchant:${DEMO_MERCHANT}`], ttlSeconds: 12 * 3600 });
  const publisherToken = mintToken(options.secret, { sub: 'demo-producer', scope: 'events:publish', ttlSeconds: 12 * 3600 });
  const event = JSON.stringify({
    type: 'payment.created',
    data: { payment_id: 'pay_456', order_id: 'order_789', merchant_id: DEMO_MERCHANT, amount: 10000, currency: 'EUR', status: 'pending' },
  });
  return [
    '',
    `Herald is running (all-in-one, in-memory broker) on ${base}`,
    `  WebSocket endpoint: ${ws}`,
    options.generated
      ? '  JWT_SECRET was not set: a secret was generated for this run (set JWT_SECRET to keep tokens valid across restarts).'
      : '  Tokens below are signed with your JWT_SECRET.',
    ...(cert === undefined ? [] : selfSignedLines(cert)),
    '',
    `Client token (sub demo-user, may subscribe to merchant:${DEMO_MERCHANT}, valid 12h):`,
    `  ${clientToken}`,
    '',
    'Connect and subscribe (any WebSocket client, e.g. wscat):',
    `  npx wscat -s v1.json${cert === undefined ? '' : ` --ca "${cert}"`} -c "${ws}?access_token=${clientToken}"`,
    `  > {"type":"subscribe","id":"1","data":{"channel":"merchant:${DEMO_MERCHANT}"}}`,
    '',
    'Publish a payment.created event:',
    `  curl -sS${cert === undefined ? '' : ` --cacert "${cert}"`} -X POST ${base}/v1/events \\`,
    `    -H "Authorization: Bearer ${publisherToken}" \\`,
    '    -H "Content-Type: application/json" \\',
    `    -d '${event}'`,
    '',
  ].join('\n');
}

/** Printed with TLS=self-signed when the banner is not: where the certificate is. */
export function selfSignedBanner(options: { host: string; port: number; cert: string }): string {
  const { ws } = addresses({ ...options, tls: true });
  return ['', `Herald serves TLS with a self-signed certificate: ${ws}`, ...selfSignedLines(options.cert), ''].join('\n');
}

function selfSignedLines(cert: string): string[] {
  return [
    `  TLS=self-signed: certificate for localhost and 127.0.0.1 in ${cert}`,
    `  Trust it in clients: wscat --ca "${cert}", curl --cacert "${cert}", NODE_EXTRA_CA_CERTS="${cert}" for Node.`,
  ];
}

function addresses(options: { host: string; port: number; tls?: boolean }): { base: string; ws: string } {
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const base = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
  return { base, ws: `${base.replace(/^http/, 'ws')}/v1/ws` };
}
