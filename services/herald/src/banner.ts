/** What `herald start` prints when it generated a secret: tokens and copy-paste commands. */
import { mintToken } from './tokens.js';

export const DEMO_MERCHANT = 'm_42';

export interface BannerOptions {
  secret: string;
  host: string;
  port: number;
  generated: boolean;
  /** Where the generated secret is kept for `herald token` while the server runs. */
  secretFile?: string | undefined;
  /** The self-signed certificate's file, with TLS=self-signed. */
  selfSignedCert?: string | undefined;
  /** Served over TLS (https://, wss://). */
  tls?: boolean;
  /** How to run `herald` in the printed commands; default: as this process was run (heraldCommand). */
  command?: string;
  /** CONSOLE_ENABLED: print the console's address and a token to sign in with. */
  console?: boolean;
}

export function startBanner(options: BannerOptions): string {
  const { base, ws } = addresses(options);
  const cert = options.selfSignedCert;
  const clientToken = mintToken(options.secret, { sub: 'demo-user', channels: [`merchant:${DEMO_MERCHANT}`], ttlSeconds: 12 * 3600 });
  const publisherToken = mintToken(options.secret, { sub: 'demo-producer', scope: 'events:publish', ttlSeconds: 12 * 3600 });
  const data = { payment_id: 'pay_456', order_id: 'order_789', merchant_id: DEMO_MERCHANT, amount: 10000, currency: 'EUR', status: 'pending' };
  const event = JSON.stringify({ type: 'payment.created', data });
  const herald = options.command ?? heraldCommand();
  // Each line carries what it needs, so it works pasted into any shell: the URL (one
  // port serves both APIs here), a token (never the secret), the certificate to trust.
  const trust = cert === undefined ? '' : `NODE_EXTRA_CA_CERTS="${cert}" `;
  return [
    '',
    `Herald is running (all-in-one, in-memory broker) on ${base}`,
    `  WebSocket endpoint: ${ws}`,
    ...(options.generated
      ? [
          '  JWT_SECRET was not set: a secret was generated for this run (set JWT_SECRET to keep tokens valid across restarts).',
          ...(options.secretFile === undefined
            ? []
            : [`  It is kept in ${options.secretFile} (mode 0600) while this server runs: \`${herald} token --sub alice --channels merchant:m_7\` signs with it.`]),
        ]
      : ['  Tokens below are signed with your JWT_SECRET.']),
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
    `Follow merchant:${DEMO_MERCHANT} (one event per line; Ctrl-C stops) and publish with the herald command:`,
    `  ${trust}EDGE_URL=${ws.replace(/\/v1\/ws$/, '')} HERALD_TOKEN=${clientToken} ${herald} tail merchant:${DEMO_MERCHANT}`,
    `  ${trust}INGEST_URL=${base} INGEST_API_KEY=${publisherToken} ${herald} publish --type payment.created --data '${JSON.stringify(data)}'`,
    '',
    ...(options.console === true ? consoleLines(base, options.secret) : []),
  ].join('\n');
}

/**
 * The console and a token for it: scope admin (the stats channel), events:publish (its
 * publish form) and every channel (its tail).
 */
function consoleLines(base: string, secret: string): string[] {
  const adminToken = mintToken(secret, { sub: 'demo-admin', scope: 'admin events:publish', channels: ['*'], ttlSeconds: 12 * 3600 });
  return [`Live console: ${base}/console/`, '  Sign in with this token (sub demo-admin, scope admin events:publish, every channel, valid 12h):', `  ${adminToken}`, ''];
}

/**
 * `herald` as the user runs it: `npm run herald --` from the repository when this
 * process came from its npm scripts (`npm start`), otherwise this very script by its
 * absolute path, which works from any directory (and inside the container image).
 */
export function heraldCommand(env: NodeJS.ProcessEnv = process.env, script: string | undefined = process.argv[1]): string {
  if (env.npm_package_name === 'herald' && (env.npm_lifecycle_event === 'start' || env.npm_lifecycle_event === 'herald')) return 'npm run herald --';
  return script === undefined ? 'herald' : `node ${/^[\w@%+=:,./-]+$/.test(script) ? script : `'${script.replace(/'/g, `'\\''`)}'`}`;
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
