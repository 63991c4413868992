import { brokerConformance } from './conformance.js';
import { MemoryBroker } from './broker-memory.js';
import { MemoryBrokerStore } from './memory-store.js';
import { DEFAULT_RETENTION, type Broker } from './broker.js';

brokerConformance('memory', async () => {
  let store: MemoryBrokerStore | undefined;
  const created: Broker[] = [];
  return {
    async create(retention) {
      store ??= new MemoryBrokerStore({ ...DEFAULT_RETENTION, ...retention });
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
