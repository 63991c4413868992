/**
 * What `herald --help` and `herald <command> --help` print, and the exit codes every
 * command shares. A usage error prints one line naming the problem and the command's
 * usage on stderr, then exits 64 (EX_USAGE, as 78 is EX_CONFIG).
 */

/** Everything went as asked. */
export const EXIT_OK = 0;
/** Something failed at run time: an event refused, the ingest or the edge unreachable, a token refused. */
export const EXIT_FAILURE = 1;
/** Bad arguments, or a variable the command needs is missing or malformed. */
export const EXIT_USAGE = 64;
// 78 (EXIT_CONFIG, errors.ts): the services' configuration is invalid (start, edge, ingest, check).

const EXIT_CODES = `Exit codes:
  0   ok
  1   failure at run time (an event refused, a server unreachable, a token refused)
  64  usage error (bad arguments, a variable the command needs missing or malformed)
  78  invalid configuration (start, edge, ingest, check: one line naming the variable)`;

export const USAGE = `Usage: herald <command> [options]

Commands:
  start    edge and ingest in one process on one port, in-memory broker
  edge     the WebSocket edge service (needs REDIS_URL or REDIS_CLUSTER_NODES)
  ingest   the ingest service (needs REDIS_URL or REDIS_CLUSTER_NODES)
  publish  publish events to the ingest API: --type T --data '<json>', or NDJSON on stdin
  tail     print the events of channels as they arrive, resuming across reconnects
  check    validate the configuration, routes and message types offline; print what would be served
  token    print a token signed with JWT_SECRET
           --sub <id> --channels <a,b> [--scope events:publish] [--ttl 1h]
  version  print the version

"herald <command> --help" describes a command. Configuration comes from environment
variables; see docs/operations.md.

${EXIT_CODES}
`;

export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  start: `Usage: herald start

Runs the edge and the ingest in one process on one port (PORT, default 8080), with an
in-memory broker: for development and small installs. Without JWT_SECRET it generates
one and prints a client token and commands that connect, tail and publish. TLS=self-signed
serves wss:// and https:// with a certificate made at start. LOG_FORMAT=auto prints
readable logs on a terminal, JSON otherwise.

Exit codes: 0 after SIGINT or SIGTERM, 1 cannot start (port taken...), 78 invalid configuration.
`,
  edge: `Usage: herald edge

The WebSocket edge service (PORT, default 8080) on Redis (REDIS_URL) or a Redis Cluster
(REDIS_CLUSTER_NODES). EDGE_WORKERS runs several processes on one port.

Exit codes: 0 after SIGTERM, 1 cannot start (Redis unreachable, port taken...), 78 invalid configuration.
`,
  ingest: `Usage: herald ingest

The ingest service (INGEST_PORT, default 8081): POST /v1/events and /v1/events:batch, and
the Redis stream <prefix>:ingest, on Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES).

Exit codes: 0 after SIGTERM, 1 cannot start (Redis unreachable, port taken...), 78 invalid configuration.
`,
  token: `Usage: herald token [--sub <id>] [--channels <a,b>] [--scope <scope>] [--ttl <duration>]

Prints a token signed with JWT_SECRET (HS256; JWT_ISSUER and JWT_AUDIENCE honoured).
  --sub <id>          the token's sub (default user)
  --channels <a,b>    channels it may subscribe to (exact names or prefixes ending in *)
  --scope <scope>     e.g. events:publish for the ingest API, admin for its admin API
  --ttl <duration>    lifetime, e.g. 30s, 10m, 1h (default 1h)

Exit codes: 0 printed, 64 usage error (JWT_SECRET unset, --sub or --channels missing,
a channel name, --scope or --ttl not valid).
`,
  publish: `Usage: herald publish --type <type> --data '<json>' [--id <id>]
       herald publish < events.ndjson

Publishes to the ingest API. With --type and --data, one event (POST /v1/events);
otherwise one event object per line on stdin ({"type":...,"data":{...},"id"?:...}),
sent in batches of up to 500 (POST /v1/events:batch). Blank lines are skipped.

Prints one line per accepted event on stdout: {"id":...,"channels":[...],"duplicate":false}.
Each failure is one line on stderr with the line number, the problem type and its
detail; a line that is not a JSON object fails alone, the others are still sent.

Options:
  --type <type>   event type, e.g. payment.created
  --data <json>   the event's data, a JSON object
  --id <id>       event id (the idempotency key); the ingest makes one when absent
  -h, --help      this text

Environment:
  INGEST_URL      the ingest API (default http://127.0.0.1:8081; herald start serves it on PORT)
  INGEST_API_KEY  bearer key: one of INGEST_API_KEYS, or a JWT with scope events:publish

Exit codes: 0 every event accepted (duplicates included), 1 any event failed,
64 usage error.
`,
  tail: `Usage: herald tail [--since <seq>] [--output pretty|json] <channel>...

Subscribes to the channels and prints one event per line until SIGINT or SIGTERM.
Reconnects like the client SDK and resumes each channel after the last seq printed,
so a restarted or drained edge node loses and repeats nothing; when the server can no
longer replay (continuity-lost) a line on stderr says so. Connection notices go to
stderr.

Options:
  --since <seq>           resume after this seq (every channel), or <channel>=<seq>
                          (repeatable) for one channel
  --output pretty|json    pretty (default on a terminal): time, channel, seq, type, id,
                          data; json (default otherwise): each envelope as received
  -h, --help              this text

Environment:
  EDGE_URL             the edge (default ws://127.0.0.1:8080; wss:// for TLS, trusted
                       through NODE_EXTRA_CA_CERTS for a private CA)
  HERALD_TOKEN         the client token to connect with, or else
  JWT_SECRET           a token granting just these channels is minted (sub herald-tail,
                       1 h, renewed on reconnect; JWT_ISSUER and JWT_AUDIENCE honoured)

Exit codes: 0 stopped by SIGINT or SIGTERM, 1 the token or every subscription was
refused, 64 usage error.
`,
  check: `Usage: herald check [start|edge|ingest]...

Validates the configuration from the environment as the named services would at start
(by default herald edge and herald ingest when REDIS_URL or REDIS_CLUSTER_NODES is set,
herald start otherwise), reads the TLS files, ROUTES_FILE, EVENT_SCHEMAS_DIR and
MESSAGE_TYPES_FILE, and prints what would be served: engine, ports, TLS, limits,
routes and registered message types. Connects to nothing.

Exit codes: 0 valid, 64 usage error, 78 invalid configuration (the same one line the
service would print).
`,
};

export function commandUsage(command: string): string {
  return COMMAND_USAGE[command] ?? USAGE;
}

/** One line naming the problem, then the command's usage, on stderr; exit 64. */
export function usageError(command: string, message: string): never {
  process.stderr.write(`herald ${command}: ${message}\n\n${commandUsage(command)}`);
  process.exit(EXIT_USAGE);
}
