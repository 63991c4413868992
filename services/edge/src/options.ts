/**
 * Everything the edge needs to know, as plain values. Built from HeraldConfig by
 * `edgeOptionsFromConfig`; tests build it directly.
 */
import { jwtAlgorithms, type HeraldConfig } from '@herald/runtime';

export interface EdgeOptions {
  nodeId: string;
  allowedOrigins: readonly string[];
  jwt: { secret?: string; publicKey?: string; algorithms: readonly string[]; issuer?: string; audience?: string };
  maxSubscriptionsPerConnection: number;
  maxCommandsPerSecond: number;
  maxMessageSize: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  compression: boolean;
  compressionThreshold: number;
}

export function edgeOptionsFromConfig(config: HeraldConfig, nodeId: string): EdgeOptions {
  return {
    nodeId,
    allowedOrigins: config.ALLOWED_ORIGINS,
    jwt: {
      ...(config.JWT_SECRET !== undefined ? { secret: config.JWT_SECRET } : {}),
      ...(config.JWT_PUBLIC_KEY !== undefined ? { publicKey: config.JWT_PUBLIC_KEY } : {}),
      algorithms: jwtAlgorithms(config),
      ...(config.JWT_ISSUER !== undefined ? { issuer: config.JWT_ISSUER } : {}),
      ...(config.JWT_AUDIENCE !== undefined ? { audience: config.JWT_AUDIENCE } : {}),
    },
    maxSubscriptionsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxCommandsPerSecond: config.MAX_COMMANDS_PER_SECOND,
    maxMessageSize: config.MAX_MESSAGE_SIZE,
    maxBufferedBytes: config.MAX_BUFFERED_BYTES,
    pingIntervalMs: config.WEBSOCKET_PING_INTERVAL,
    readTimeoutMs: config.WEBSOCKET_READ_TIMEOUT,
    writeTimeoutMs: config.WEBSOCKET_WRITE_TIMEOUT,
    compression: config.WEBSOCKET_COMPRESSION,
    compressionThreshold: config.WEBSOCKET_COMPRESSION_THRESHOLD,
  };
}
