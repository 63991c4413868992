/**
 * Everything the edge needs to know, as plain values. Built from HeraldConfig by
 * `edgeOptionsFromConfig`; tests build it directly.
 */
import { jwtVerification, type HeraldConfig, type JwtVerification } from '@herald/runtime';

export interface EdgeOptions {
  nodeId: string;
  allowedOrigins: readonly string[];
  jwt: JwtVerification;
  maxSubscriptionsPerConnection: number;
  maxCommandsPerSecond: number;
  /** MAX_HANDSHAKES_PER_IP_PER_SECOND; unset or null: no limit (handshake-limit.ts). */
  maxHandshakesPerIpPerSecond?: number | null;
  /** TRUSTED_PROXIES: whose X-Forwarded-For names the client (client-address.ts). */
  trustedProxies?: readonly string[];
  maxMessageSize: number;
  /** INGEST_MAX_DEPTH: nesting allowed in a command frame. */
  maxJsonDepth: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  compression: boolean;
  compressionThreshold: number;
  /** REBALANCE_THRESHOLD: shed connections above this times the cluster average (rebalance.ts); null or unset: off. */
  rebalanceThreshold?: number | null;
  /** CONSOLE_ENABLED: serve /console and publish this node's stats (console/console-routes.ts, stats/). */
  console?: { enabled: boolean; ingestUrl?: string | undefined };
}

export function edgeOptionsFromConfig(config: HeraldConfig, nodeId: string): EdgeOptions {
  return {
    nodeId,
    allowedOrigins: config.ALLOWED_ORIGINS,
    jwt: jwtVerification(config),
    maxSubscriptionsPerConnection: config.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxCommandsPerSecond: config.MAX_COMMANDS_PER_SECOND,
    maxHandshakesPerIpPerSecond: config.MAX_HANDSHAKES_PER_IP_PER_SECOND,
    trustedProxies: config.TRUSTED_PROXIES,
    maxMessageSize: config.MAX_MESSAGE_SIZE,
    maxJsonDepth: config.INGEST_MAX_DEPTH,
    maxBufferedBytes: config.MAX_BUFFERED_BYTES,
    pingIntervalMs: config.WEBSOCKET_PING_INTERVAL,
    readTimeoutMs: config.WEBSOCKET_READ_TIMEOUT,
    writeTimeoutMs: config.WEBSOCKET_WRITE_TIMEOUT,
    compression: config.WEBSOCKET_COMPRESSION,
    compressionThreshold: config.WEBSOCKET_COMPRESSION_THRESHOLD,
    console: { enabled: config.CONSOLE_ENABLED, ingestUrl: config.CONSOLE_INGEST_URL },
    rebalanceThreshold: config.REBALANCE_THRESHOLD,
  };
}
