/**
 * Event envelopes on the wire: `{type, id, timestamp, channel, seq, data}`, in that key
 * order. Encoded once per event and channel by the publisher; the broker inserts the
 * seq it assigns between `head` and `tail`, so no one re-serialises `data`.
 */

export interface EnvelopeTemplate {
  /** `{"type":..,"id":..,"timestamp":..,"channel":..,"seq":"` */
  readonly head: string;
  /** `","data":<data>}` */
  readonly tail: string;
}

/** Event fields a publisher provides; `data` is JSON text, already validated. */
export interface EventInput {
  readonly type: string;
  readonly id: string;
  readonly timestamp: string;
  readonly data: string;
}

export function envelopeTemplate(event: EventInput, channel: string): EnvelopeTemplate {
  return {
    head:
      `{"type":${JSON.stringify(event.type)},"id":${JSON.stringify(event.id)},` +
      `"timestamp":${JSON.stringify(event.timestamp)},"channel":${JSON.stringify(channel)},"seq":"`,
    tail: `","data":${event.data}}`,
  };
}

export function completeEnvelope(template: EnvelopeTemplate, seq: string): string {
  return template.head + seq + template.tail;
}
