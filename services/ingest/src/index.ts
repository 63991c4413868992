export { IngestServer, EVENTS_PATH, BATCH_PATH, MAX_BODY_BYTES, MAX_BATCH_EVENTS, type IngestServerDependencies } from './ingest-server.js';
export { EventPublisher, newEventId, type IncomingEvent, type Outcome, type Accepted, type Rejected } from './publisher.js';
export { IngestAuthenticator, PUBLISH_SCOPE, type IngestAuthOptions } from './ingest-auth.js';
export { IngestMetrics, type IngestSource } from './ingest-metrics.js';
export { Router, DEFAULT_ROUTES, RoutesError, type RouteDefinition } from './routes.js';
export { validateEvent, type ValidEvent } from './event-validation.js';
export { EVENT_ENVELOPE_SCHEMA, BATCH_BODY_SCHEMA, ROUTES_FILE_SCHEMA, EVENT_ID_PATTERN } from './schemas.js';
export { StreamConsumer, CONSUMER_GROUP, type StreamConsumerOptions } from './stream-consumer.js';
