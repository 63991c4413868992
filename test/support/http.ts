/** Plain HTTP requests for the black-box tests: status, media type and parsed body. */
export interface HttpResult {
  status: number;
  contentType: string | null;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or the text when it is not JSON. */
  body: any;
}

export async function httpGet(url: string, init: RequestInit = {}): Promise<HttpResult> {
  return resultOf(await fetch(url, init));
}

/** Reads a response whole: its status, media type, headers, text and parsed body. */
export async function resultOf(response: Response): Promise<HttpResult> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers, text, body };
}

/** The media type of a Content-Type header without parameters, lower-cased. */
export function mediaTypeOf(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The value of one sample of a Prometheus text exposition at `${baseUrl}/metrics`, or 0
 * when the sample is absent. `labels` must all match (other labels may be present).
 */
export async function metricValue(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const { text } = await httpGet(`${baseUrl}/metrics`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return 0;
}

/** Polls /metrics until `predicate(value)` holds: for state nothing else signals. */
export async function waitForMetric(
  baseUrl: string,
  name: string,
  labels: Record<string, string>,
  predicate: (value: number) => boolean,
  timeoutMs = 10_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await metricValue(baseUrl, name, labels);
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`${name}${JSON.stringify(labels)} is ${value} after ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
