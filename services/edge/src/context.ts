/**
 * What sessions share on one edge node, passed as one object rather than globals.
 */
import type { Broker } from '@herald/broker';
import type { Logger } from '@herald/runtime';
import type { EdgeMetrics } from './edge-metrics.js';
import type { Hub } from './hub.js';
import type { EdgeOptions } from './options.js';
import type { Outbox } from './outbox.js';
import type { Session } from './session.js';

export interface EdgeContext {
  readonly options: EdgeOptions;
  readonly outbox: Outbox;
  readonly hub: Hub;
  readonly broker: Broker;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  onSessionClosed(session: Session): void;
}
