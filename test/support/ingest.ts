/** Publishing through the ingest HTTP API, as a producer would. */
import { publisherToken } from './tokens.js';

let eventCounter = 0;

export function paymentCreated(merchant: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  eventCounter += 1;
  return {
    type: 'payment.created',
    id: `evt_${process.pid}_${Date.now().toString(36)}_${eventCounter}`,
    data: {
      payment_id: `pay_${process.pid}_${eventCounter}`,
      order_id: `order_${process.pid}_${eventCounter}`,
      merchant_id: merchant,
      amount: 1000 + eventCounter,
      currency: 'EUR',
      status: 'pending',
    },
    ...overrides,
  };
}

export interface HttpAnswer {
  status: number;
  contentType: string | null;
  body: any;
  headers: Headers;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherToken()}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: response.status, contentType: response.headers.get('content-type'), body: parsed, headers: response.headers };
}

export function publish(baseUrl: string, event: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return post(`${baseUrl}/v1/events`, event, headers);
}

export function publishBatch(baseUrl: string, events: unknown[], headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return post(`${baseUrl}/v1/events:batch`, { events }, headers);
}
