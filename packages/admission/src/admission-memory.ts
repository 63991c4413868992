/**
 * In-memory admission for one process (`herald start`): exact, synchronous counting.
 */
import type { Admission, AdmissionLimits, AdmissionResult } from './admission.js';

export class MemoryAdmission implements Admission {
  readonly kind = 'memory';
  readonly fallbackAdmissions = 0;
  private total = 0;
  private readonly perUser = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.total = 0;
    this.perUser.clear();
  }

  async acquire(user: string): Promise<AdmissionResult> {
    const { maxConnections, maxConnectionsPerUser } = this.limits;
    if (maxConnections !== null && this.total >= maxConnections) return { admitted: false, reason: 'global-limit' };
    const userCount = user === '' ? 0 : (this.perUser.get(user) ?? 0);
    if (user !== '' && maxConnectionsPerUser !== null && userCount >= maxConnectionsPerUser) {
      return { admitted: false, reason: 'user-limit' };
    }
    this.total += 1;
    if (user !== '') this.perUser.set(user, userCount + 1);
    return { admitted: true };
  }

  release(user: string): void {
    if (this.total > 0) this.total -= 1;
    if (user === '') return;
    const count = this.perUser.get(user) ?? 0;
    if (count <= 1) this.perUser.delete(user);
    else this.perUser.set(user, count - 1);
  }

  async count(): Promise<number> {
    return this.total;
  }

  /** One process, one node: always level with the average. */
  async nodeCounts(): Promise<ReadonlyMap<string, number>> {
    return new Map([['local', this.total]]);
  }

  degradedReason(): string | undefined {
    return undefined;
  }
}
