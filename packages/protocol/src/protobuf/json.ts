/**
 * JSON values as the protobuf runtime types them (google.protobuf.Struct fields are
 * plain JSON objects in generated code), and the one safe way to add a key.
 */
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';

export type { JsonObject, JsonValue };

/**
 * Sets an own property, also for the key `__proto__`: JSON.parse makes such keys own
 * properties, and a plain assignment would replace the object's prototype instead.
 */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
