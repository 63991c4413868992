/**
 * Logging for the Redis engines. The interface is the part of pino the engine uses,
 * so a pino logger (or a child of it) fits as it is.
 */
export interface BrokerLogger {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
  error(data: object, message: string): void;
}
