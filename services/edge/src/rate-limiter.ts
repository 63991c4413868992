/**
 * Per-connection command rate limit: a token bucket of MAX_COMMANDS_PER_SECOND tokens,
 * refilled continuously. Each rejection takes from a second bucket (five seconds' worth
 * of commands, refilled at the same rate): a burst is answered with `rate-limited`
 * errors, but a client that keeps sending at more than twice the limit empties it
 * within seconds and is closed 1008 (sustained abuse).
 */
const ABUSE_SECONDS = 5;

export type RateDecision = 'allow' | 'limit' | 'abuse';

export class CommandRateLimiter {
  private tokens: number;
  private abuseTokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = perSecond;
    this.abuseTokens = perSecond * ABUSE_SECONDS;
    this.updatedAt = now;
  }

  take(now: number): RateDecision {
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      const refill = (elapsed * this.perSecond) / 1000;
      this.tokens = Math.min(this.perSecond, this.tokens + refill);
      this.abuseTokens = Math.min(this.perSecond * ABUSE_SECONDS, this.abuseTokens + refill);
      this.updatedAt = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'allow';
    }
    this.abuseTokens -= 1;
    return this.abuseTokens < 0 ? 'abuse' : 'limit';
  }
}
