/**
 * Liveness and readiness. Liveness answers while the event loop runs. Readiness asks
 * every registered check and is 503 while any names a reason, or while draining.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Problem } from '@herald/protocol';
import { sendJson, sendProblem } from './http.js';

/** Returns why the component is not ready, or undefined when it is. */
export type ReadinessCheck = () => string | undefined;

export class Health {
  private readonly checks: ReadinessCheck[] = [];
  /** Checks about sibling processes (other edge workers of the same node). */
  private readonly siblingChecks: ReadinessCheck[] = [];
  private drainingSince: number | undefined;

  addCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** A check that speaks for sibling processes: not part of `localReasons`. */
  addSiblingCheck(check: ReadinessCheck): void {
    this.siblingChecks.push(check);
  }

  /** From now on readiness is 503: the node takes no new work. */
  startDraining(): void {
    this.drainingSince ??= Date.now();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Why this process is not ready: draining, or a failing check of its own. */
  localReasons(): string[] {
    const reasons: string[] = [];
    if (this.draining) reasons.push('draining for shutdown');
    for (const check of this.checks) {
      const reason = check();
      if (reason !== undefined) reasons.push(reason);
    }
    return reasons;
  }

  notReadyReasons(): string[] {
    const reasons = this.localReasons();
    for (const check of this.siblingChecks) {
      const reason = check();
      if (reason !== undefined) reasons.push(reason);
    }
    return reasons;
  }

  /** Answers /healthz and /readyz; returns false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return true;
    }
    if (path === '/readyz') {
      const reasons = this.notReadyReasons();
      if (reasons.length === 0) sendJson(res, 200, { status: 'ready' });
      else sendProblem(res, Problem.notReady, reasons.join('; '), { reasons });
      return true;
    }
    return false;
  }
}
