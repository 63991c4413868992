import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION, DEFAULT_RETENTION_SETTINGS, retentionOf } from './retention.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('retentionOf', () => {
  it('derives the windows of the default settings', () => {
    expect(retentionOf()).toEqual({ historySize: 1000, historyTtlMs: 10 * MINUTE, historyMetaTtlMs: 30 * 24 * HOUR, dedupeTtlMs: 10 * MINUTE, eventTtlMs: 24 * HOUR });
    expect(retentionOf(DEFAULT_RETENTION_SETTINGS)).toEqual(DEFAULT_RETENTION);
  });

  it('keeps a position at least as long as its events', () => {
    expect(retentionOf({ historyTtlMs: 2 * HOUR, historyMetaTtlMs: HOUR }).historyMetaTtlMs).toBe(2 * HOUR);
    expect(retentionOf({ historyTtlMs: HOUR, historyMetaTtlMs: 3 * HOUR }).historyMetaTtlMs).toBe(3 * HOUR);
  });

  it('ends the per-channel dedupe window before the event window: at most half of it', () => {
    // A short IDEMPOTENCY_TTL: half of it.
    expect(retentionOf({ idempotencyTtlMs: 4 * MINUTE })).toMatchObject({ dedupeTtlMs: 2 * MINUTE, eventTtlMs: 4 * MINUTE });
    // A long one: HISTORY_TTL, or ten minutes when history is shorter.
    expect(retentionOf({ idempotencyTtlMs: 24 * HOUR, historyTtlMs: HOUR })).toMatchObject({ dedupeTtlMs: HOUR, eventTtlMs: 24 * HOUR });
    expect(retentionOf({ idempotencyTtlMs: 24 * HOUR, historyTtlMs: MINUTE })).toMatchObject({ dedupeTtlMs: 10 * MINUTE });
    expect(retentionOf({ idempotencyTtlMs: 1_001 }).dedupeTtlMs).toBe(500);
  });

  it('passes the size through', () => {
    expect(retentionOf({ historySize: 7 }).historySize).toBe(7);
  });
});
