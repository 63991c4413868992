/**
 * Retention: what an operator sets (HISTORY_SIZE, HISTORY_TTL, HISTORY_META_TTL,
 * IDEMPOTENCY_TTL) and the windows every engine derives from it. The derivation lives
 * here, beside the engines that depend on its invariants, so that a composition root
 * passes the settings and never has to know how the dedupe windows relate.
 */

/** The settings an operator chooses; every engine takes these (or some of them). */
export interface RetentionSettings {
  /** Events kept per channel (HISTORY_SIZE). */
  readonly historySize: number;
  /** How long events are kept after they were published (HISTORY_TTL). */
  readonly historyTtlMs: number;
  /** How long a quiet channel's position is remembered after its history expired (HISTORY_META_TTL). */
  readonly historyMetaTtlMs: number;
  /** Window in which a repeated event id publishes nothing (IDEMPOTENCY_TTL). */
  readonly idempotencyTtlMs: number;
}

/** What an engine applies, derived from the settings by `retentionOf`. */
export interface RetentionOptions {
  /** Events kept per channel. */
  historySize: number;
  /** How long events are kept. */
  historyTtlMs: number;
  /**
   * How long a channel's position (its top seq) is remembered after its history
   * expired, so that a client of a quiet channel can still resume without a gap.
   */
  historyMetaTtlMs: number;
  /** Per-channel idempotency window (engine-internal, see `retentionOf`). */
  dedupeTtlMs: number;
  /** Event-level idempotency window of `publishEvents`. */
  eventTtlMs: number;
}

export const DEFAULT_RETENTION_SETTINGS: RetentionSettings = {
  historySize: 1000,
  historyTtlMs: 10 * 60_000,
  historyMetaTtlMs: 30 * 24 * 3_600_000,
  idempotencyTtlMs: 24 * 3_600_000,
};

const TEN_MINUTES = 10 * 60_000;

/** The windows an engine applies for `settings`; a setting left out takes its default. */
export function retentionOf(settings: Partial<RetentionSettings> = {}): RetentionOptions {
  const { historySize, historyTtlMs, historyMetaTtlMs, idempotencyTtlMs } = { ...DEFAULT_RETENTION_SETTINGS, ...settings };
  return {
    historySize,
    historyTtlMs,
    // A position must outlive the events it is the top of, or a client that holds the
    // last of them could no longer tell a quiet channel from a forgotten one.
    historyMetaTtlMs: Math.max(historyMetaTtlMs, historyTtlMs),
    // The per-channel dedupe only covers the retries of an attempt that failed half-way
    // (the cluster path dedupes each channel by the event id); it ends well before the
    // event-level record, so that an id whose record expired publishes again.
    dedupeTtlMs: Math.min(Math.floor(idempotencyTtlMs / 2), Math.max(historyTtlMs, TEN_MINUTES)),
    eventTtlMs: idempotencyTtlMs,
  };
}

/** The windows of the default settings. */
export const DEFAULT_RETENTION: RetentionOptions = retentionOf(DEFAULT_RETENTION_SETTINGS);
