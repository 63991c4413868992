/** The broker conformance suite on the memory engine (instances sharing one store are the nodes). */
import { brokerConformance } from './conformance.js';
import { MemoryBroker } from '../src/broker-memory.js';
import { MemoryBrokerStore } from '../src/memory-store.js';
import { retentionOf } from '../src/retention.js';
import type { Broker } from '../src/broker.js';

brokerConformance('memory', async () => {
  let store: MemoryBrokerStore | undefined;
  const created: Broker[] = [];
  return {
    async create(retention) {
      store ??= new MemoryBrokerStore(retentionOf(retention));
      const broker = new MemoryBroker({ store });
      created.push(broker);
      return broker;
    },
    async cleanup() {
      await Promise.all(created.map((broker) => broker.stop()));
      store?.stopSweeping();
    },
  };
});
