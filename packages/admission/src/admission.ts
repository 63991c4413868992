/**
 * Admission: the cluster-wide connection counter behind MAX_CONNECTIONS and
 * MAX_CONNECTIONS_PER_USER. `acquire` checks and counts in one atomic step (no
 * check-then-act race between nodes); a refused connection is never counted.
 */

export interface AdmissionLimits {
  /** Cluster-wide limit; null is unlimited. */
  readonly maxConnections: number | null;
  /** Per token `sub`, cluster-wide; null is unlimited. */
  readonly maxConnectionsPerUser: number | null;
}

export type AdmissionResult =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: 'global-limit' | 'user-limit' };

export interface Admission {
  /** Engine name: `memory`, `redis`. */
  readonly kind: string;
  start(): Promise<void>;
  /** Releases every connection this node still counts. */
  stop(): Promise<void>;
  /** Counts one connection of `user` if the limits allow it. `user` '' has no per-user limit. */
  acquire(user: string): Promise<AdmissionResult>;
  /** Uncounts one connection acquired before. Never throws; engines may batch. */
  release(user: string): void;
  /** Connections counted cluster-wide, as far as this engine knows. */
  count(): Promise<number>;
  /**
   * Connections counted per live node (node id -> its share), as far as this engine
   * knows: what a node compares itself with to rebalance. One entry on a single node.
   */
  nodeCounts(): Promise<ReadonlyMap<string, number>>;
  /** Why admission is degraded (for readiness and metrics), or undefined. */
  degradedReason(): string | undefined;
  /** Connections admitted on this node's own authority while the store was unreachable. */
  readonly fallbackAdmissions: number;
}

export const UNLIMITED: AdmissionLimits = { maxConnections: null, maxConnectionsPerUser: null };
