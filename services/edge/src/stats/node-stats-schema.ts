/**
 * The JSON Schema of a `herald.stats` event's data (node-stats.ts), for the tests that
 * check what the publisher sends and for anyone consuming `_herald:stats` outside the
 * console. Kept next to the type it describes.
 */
const count = { type: 'integer', minimum: 0 } as const;
const milliseconds = { type: ['number', 'null'], minimum: 0 } as const;

export const NODE_STATS_SCHEMA = {
  $id: 'herald:herald.stats',
  type: 'object',
  additionalProperties: false,
  required: ['node', 'at', 'intervalMs', 'uptimeSeconds', 'connections', 'subscriptions', 'channels', 'eventsIn', 'deliveries', 'lag', 'slowConsumerCloses', 'slowConsumerClosesTotal', 'brokerUp', 'draining'],
  properties: {
    node: { type: 'string', minLength: 1, maxLength: 64 },
    at: count,
    intervalMs: count,
    uptimeSeconds: count,
    connections: count,
    subscriptions: count,
    channels: count,
    eventsIn: count,
    deliveries: count,
    lag: {
      type: 'object',
      additionalProperties: false,
      required: ['count', 'p50Ms', 'p99Ms', 'buckets'],
      properties: {
        count,
        p50Ms: milliseconds,
        p99Ms: milliseconds,
        buckets: { type: 'array', maxItems: 100, items: { type: 'array', minItems: 2, maxItems: 2, items: count } },
      },
    },
    slowConsumerCloses: count,
    slowConsumerClosesTotal: count,
    brokerUp: { type: 'boolean' },
    draining: { type: 'boolean' },
  },
} as const;
