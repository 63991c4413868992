import type { HeraldConfig, Logger } from '@herald/runtime';
import type { Components } from './components.js';
import { StartupError } from './errors.js';

export async function createRedisComponents(_config: HeraldConfig, _nodeId: string, _logger: Logger): Promise<Components> {
  throw new StartupError('the Redis engines are not available in this build');
}
