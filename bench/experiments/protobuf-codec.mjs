#!/usr/bin/env node
/**
 * Experiment (not a scenario): what the binary protocol costs per event on an edge
 * node, which encodes each event once per format, and per frame on a client. The edge
 * holds the JSON envelope text from the broker, so the protobuf path is JSON.parse of
 * that text plus encodeEventMessage; the JSON path sends the text as it is.
 *
 *   pnpm build && node bench/experiments/protobuf-codec.mjs
 */
import { completeEnvelope, envelopeTemplate } from '@herald/protocol';
import { decodeClientCommand, decodeServerMessage, encodeClientCommand, encodeEventMessage } from '@herald/protocol/protobuf';

const data = { payment_id: 'pay_456', order_id: 'order_789', merchant_id: 'm_42', amount: 10000, currency: 'EUR', status: 'pending' };
const event = { type: 'payment.created', id: 'evt_7f3a', timestamp: '2026-11-21T10:00:00.123Z', data: JSON.stringify(data) };
const paymentText = completeEnvelope(envelopeTemplate(event, 'merchant:m_42'), '1763719200123-0');
const otherText = completeEnvelope(
  envelopeTemplate(
    { ...event, type: 'refund.created', data: JSON.stringify({ refund_id: 'ref_1', merchant_id: 'm_42', amount: 500, reasons: ['duplicate', 'fraud'], meta: { source: 'api', attempt: 2, manual: false, note: null } }) },
    'merchant:m_42',
  ),
  '1763719200123-1',
);
const subscribe = encodeClientCommand({ type: 'subscribe', id: 'c1', data: { channel: 'merchant:m_42', since: '1763719200123-0' } });

/** Nanoseconds per call, after a warm-up. */
function time(run, count = 300_000) {
  for (let i = 0; i < 30_000; i++) run();
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) run();
  return Number(process.hrtime.bigint() - started) / count;
}

for (const [name, text] of [['payment.created', paymentText], ['refund.created (Struct data)', otherText]]) {
  const bytes = encodeEventMessage(JSON.parse(text));
  const parse = time(() => JSON.parse(text));
  const encode = time(() => encodeEventMessage(JSON.parse(text))) - parse;
  const decode = time(() => decodeServerMessage(bytes));
  process.stdout.write(
    `${name}: JSON ${Buffer.byteLength(text)} B, protobuf ${bytes.length} B (${Math.round((1 - bytes.length / Buffer.byteLength(text)) * 100)}% smaller); ` +
      `edge: JSON.parse ${(parse / 1000).toFixed(2)} us + encode ${(encode / 1000).toFixed(2)} us per event; client decode ${(decode / 1000).toFixed(2)} us\n`,
  );
}
process.stdout.write(`decodeClientCommand (subscribe): ${(time(() => decodeClientCommand(subscribe)) / 1000).toFixed(2)} us\n`);
