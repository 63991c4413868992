/** Publishing through the ingest HTTP API, as a producer would. */
import { resultOf, type HttpResult } from './http.js';
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

/** An answer of the ingest API, read as every HTTP helper reads one. */
export type HttpAnswer = HttpResult;

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return resultOf(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherToken()}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

export function publish(baseUrl: string, event: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return post(`${baseUrl}/v1/events`, event, headers);
}

export function publishBatch(baseUrl: string, events: unknown[], headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return post(`${baseUrl}/v1/events:batch`, { events }, headers);
}
