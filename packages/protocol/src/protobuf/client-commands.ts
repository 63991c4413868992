/**
 * ClientCommand: the binary form of a client command. Decoding gives the same result
 * as the JSON `decodeCommand` (commands.ts), with the same checks of `id`, channel
 * names and `since`, and the same problems, so the edge handles both formats alike.
 *
 * Decoding never throws. Bytes that are not a well-formed ClientCommand with only
 * known fields (strict-wire.ts), and params that do not belong to the type (`subscribe`
 * with `refresh` params, `ping` with any), answer /problems/invalid-message. A
 * ClientCommand has no google.protobuf.Struct, so nothing in it nests: the JSON depth
 * limit has nothing to bound here, and the strict pass caps message nesting anyway.
 *
 * Proto3 strings have no absence: an empty `id` is no id, an empty `since` is no
 * recovery (as the .proto says), an empty `channel` is an invalid channel name.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { checkCommandId, commandFromParts, type DecodeResult } from '../commands.js';
import type { Command, RefreshCommand } from '../frames.js';
import { Problem } from '../problems.js';
import { ClientCommandSchema, type ClientCommand } from '../gen/websocket/v1/websocket_pb.js';
import { checkWire } from './strict-wire.js';

export type { RefreshCommand };

/** What a client can send: every command of the protocol (`refresh` included). */
export type ClientCommandInput = Command;

type Params = ClientCommand['params']['case'];

/** The params each known type takes (`undefined`: none). */
const PARAMS_OF_TYPE: ReadonlyMap<string, Params> = new Map<string, Params>([
  ['subscribe', 'subscribe'],
  ['unsubscribe', 'unsubscribe'],
  ['refresh', 'refresh'],
  ['ping', undefined],
]);

function invalid(message: string, replyTo?: string): DecodeResult {
  return { ok: false, problem: Problem.invalidMessage, message, replyTo };
}

export function decodeClientCommand(bytes: Uint8Array): DecodeResult {
  const wrong = checkWire(ClientCommandSchema, bytes);
  if (wrong !== undefined) return invalid(`Message is not a valid ClientCommand: ${wrong}`);
  let decoded: ClientCommand;
  try {
    decoded = fromBinary(ClientCommandSchema, bytes, { readUnknownFields: false });
  } catch (error) {
    // The strict pass already refuses what the runtime would; this is a last guard.
    return invalid(`Message is not a valid ClientCommand: ${error instanceof Error ? error.message : String(error)}`);
  }

  const id = checkCommandId(decoded.id === '' ? undefined : decoded.id);
  if (!id.ok) return invalid(id.message);
  const replyTo = id.id;
  const { type, params } = decoded;
  if (type === '') return invalid('"type" is required', replyTo);

  if (PARAMS_OF_TYPE.has(type)) {
    const expected = PARAMS_OF_TYPE.get(type);
    if (params.case !== expected) {
      return invalid(
        expected === undefined
          ? `A "${type}" command takes no params (got "${params.case}")`
          : `A "${type}" command needs "${expected}" params (got ${params.case === undefined ? 'none' : `"${params.case}"`})`,
        replyTo,
      );
    }
  }
  // The JSON shape of the same command, checked by the same code as JSON frames.
  switch (params.case) {
    case 'subscribe': {
      const { channel, since } = params.value;
      return commandFromParts(type, replyTo, since === '' ? { channel } : { channel, since });
    }
    case 'unsubscribe':
      return commandFromParts(type, replyTo, { channel: params.value.channel });
    case 'refresh':
      return commandFromParts(type, replyTo, { token: params.value.token });
    case undefined:
      return commandFromParts(type, replyTo, undefined);
  }
}

/** The bytes of a command, for clients and tests. */
export function encodeClientCommand(command: ClientCommandInput): Uint8Array {
  const init: MessageInitShape<typeof ClientCommandSchema> = { type: command.type, id: command.id ?? '' };
  switch (command.type) {
    case 'subscribe':
      init.params = { case: 'subscribe', value: { channel: command.data.channel, since: command.data.since ?? '' } };
      break;
    case 'unsubscribe':
      init.params = { case: 'unsubscribe', value: { channel: command.data.channel } };
      break;
    case 'refresh':
      init.params = { case: 'refresh', value: { token: command.data.token } };
      break;
    case 'ping':
      break;
  }
  return toBinary(ClientCommandSchema, create(ClientCommandSchema, init));
}
