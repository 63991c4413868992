/**
 * Closing a node's connections with 1001 spread evenly over the drain period, in a
 * random order, so that clients do not all reconnect at the same moment.
 */
export function spreadOver<T>(items: readonly T[], periodMs: number, act: (item: T) => void): Promise<void> {
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  if (order.length === 0) return Promise.resolve();
  if (periodMs <= 0 || order.length === 1) {
    for (const item of order) act(item);
    return Promise.resolve();
  }
  const start = Date.now();
  const step = periodMs / order.length;
  let next = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const due = Math.min(order.length, Math.floor((Date.now() - start) / step) + 1);
      while (next < due) act(order[next++]!);
      if (next >= order.length) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, Math.max(10, Math.min(100, step)));
    tick();
  });
}
