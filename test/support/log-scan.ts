/**
 * Scans a process's log output for credentials: anything shaped like a JWT, and every
 * secret value of the environment the process was started with (JWT_SECRET, each key
 * of INGEST_API_KEYS and ADMIN_API_KEYS, REDIS_PASSWORD, the password of REDIS_URL),
 * as written, JSON-escaped or URL-encoded. PROTOCOL.md section 2: the token never
 * appears in logs.
 *
 * Log lines are the JSON records on stdout and every line on stderr. Other stdout
 * lines are not logs: `herald start` prints a ready client token on purpose.
 */

/** A JWT in compact form: header and payload are base64url JSON objects (`{"` -> `eyJ`). */
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?/;

/** Variables whose values are secrets; lists are split on commas. */
export const SECRET_VARIABLES = ['JWT_SECRET', 'INGEST_API_KEYS', 'ADMIN_API_KEYS', 'REDIS_PASSWORD'] as const;

/**
 * Values shorter than this are not looked for: a two-letter key would match ordinary
 * words. Tests that want the scan to cover a key give it at least this many characters.
 */
export const MIN_SECRET_LENGTH = 8;

export interface Secret {
  /** Where it comes from, e.g. `INGEST_API_KEYS[1]`; printed instead of the value. */
  name: string;
  value: string;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** 1-based line number within its stream. */
  line: number;
  text: string;
}

export interface Leak {
  stream: 'stdout' | 'stderr';
  line: number;
  /** `JWT` or the secret's name. */
  what: string;
  /** The line with every secret and JWT masked, at most 300 characters. */
  excerpt: string;
}

/** The secrets in a process's environment. */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): Secret[] {
  const secrets: Secret[] = [];
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (name === 'INGEST_API_KEYS' || name === 'ADMIN_API_KEYS') {
      value.split(',').forEach((key, index) => {
        const trimmed = key.trim();
        if (trimmed !== '') secrets.push({ name: `${name}[${index}]`, value: trimmed });
      });
    } else secrets.push({ name, value });
  }
  const redisUrl = env.REDIS_URL;
  if (redisUrl) {
    try {
      const password = decodeURIComponent(new URL(redisUrl).password);
      if (password !== '') secrets.push({ name: 'REDIS_URL password', value: password });
    } catch {
      // not a URL: the process refuses it at start
    }
  }
  return secrets.filter((secret) => secret.value.length >= MIN_SECRET_LENGTH);
}

/** The log lines of a process's output (stdout lines, stderr chunks as received). */
export function logLines(stdout: readonly string[], stderr: readonly string[]): LogLine[] {
  const lines: LogLine[] = [];
  stdout.forEach((text, index) => {
    if (text.trimStart().startsWith('{')) lines.push({ stream: 'stdout', line: index + 1, text });
  });
  stderr
    .join('')
    .split('\n')
    .forEach((text, index) => {
      if (text !== '') lines.push({ stream: 'stderr', line: index + 1, text });
    });
  return lines;
}

/** Forms a secret may take in a log line. */
function variants(value: string): string[] {
  return [...new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)])];
}

/** Every JWT-shaped string and every secret found in `lines`; [] when clean. */
export function scanLogs(lines: readonly LogLine[], secrets: readonly Secret[]): Leak[] {
  const leaks: Leak[] = [];
  const needles = secrets.flatMap((secret) => variants(secret.value).map((form) => ({ name: secret.name, form })));
  const mask = (text: string): string => {
    let masked = text.replace(new RegExp(JWT_PATTERN.source, 'g'), '<JWT>');
    for (const { name, form } of needles) masked = masked.split(form).join(`<${name}>`);
    return masked.length > 300 ? `${masked.slice(0, 300)}...` : masked;
  };
  for (const entry of lines) {
    const found: string[] = [];
    if (JWT_PATTERN.test(entry.text)) found.push('JWT');
    for (const { name, form } of needles) if (entry.text.includes(form) && !found.includes(name)) found.push(name);
    for (const what of found) leaks.push({ stream: entry.stream, line: entry.line, what, excerpt: mask(entry.text) });
  }
  return leaks;
}

/** One line per leak, naming the stream, line and what leaked, never the value itself. */
export function describeLeaks(label: string, leaks: readonly Leak[]): string {
  return [`${label}: ${leaks.length} credential(s) in the logs`, ...leaks.map((leak) => `  ${leak.stream}:${leak.line} ${leak.what}: ${leak.excerpt}`)].join('\n');
}
