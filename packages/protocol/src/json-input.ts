/**
 * JSON from outside (an ingest body, a stream entry, a command frame), parsed with the
 * limits Herald promises: nothing nests deeper than the configured depth, every number
 * is carried exactly or refused, and no object names a key twice.
 *
 * `JSON.parse` does the parsing (V8's is iterative: no depth breaks it), then one
 * iterative pass over the text finds what JSON.parse silently changes or what would
 * break code that walks the value recursively later (Ajv, JSON.stringify):
 * - nesting deeper than the limit (reported once, at the first container too deep,
 *   whose contents are not looked at);
 * - numbers that do not survive as a double: `1e400` (Infinity, written as null),
 *   `9007199254740993` (becomes ...992), `1e-400` (0), `0.10000000000000000555`
 *   (0.1), `-0` (written as 0), and integers beyond +-(2^53-1), which JavaScript
 *   clients cannot hold exactly;
 * - duplicate keys (JSON.parse keeps the last, silently);
 * - strings that are not Unicode text: a `\ud800` escape without its other half (RFC
 *   8259 section 8.2) cannot be carried by UTF-8 or by protobuf, it would arrive as U+FFFD.
 * The pass only reads the text; it costs a few hundred nanoseconds per event.
 */

export type JsonInputReason = 'depth' | 'number' | 'duplicate-key' | 'text';

export interface JsonInputViolation {
  /** Where, as `events[3].data.amount` (`''` for the root value). */
  readonly path: string;
  readonly reason: JsonInputReason;
  readonly message: string;
}

export interface JsonInputOptions {
  /** The deepest nesting allowed, counted from `depthBase` (the value at that level is 1). */
  readonly maxDepth: number;
  /** Enclosing levels not counted: 1 measures the values inside a top-level object. */
  readonly depthBase?: number;
  /** Stop collecting after this many violations (the scan still completes). */
  readonly maxViolations?: number;
}

export interface JsonInput {
  readonly value: unknown;
  readonly violations: readonly JsonInputViolation[];
}

/** Parses `text` as JSON (throws SyntaxError as JSON.parse does) and checks it. */
export function parseJsonInput(text: string, options: JsonInputOptions): JsonInput {
  const value: unknown = JSON.parse(text);
  return { value, violations: inspectJson(text, options) };
}

interface Frame {
  readonly array: boolean;
  /** Object: the key of the current member. Array: unused. */
  key: string;
  /** Array: the index of the current element. */
  index: number;
  /** Object: the keys seen so far. */
  readonly keys: string[] | undefined;
  /** Object: the next string is a key. */
  awaitingKey: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** The checks of `parseJsonInput` on text that JSON.parse accepts. */
export function inspectJson(text: string, options: JsonInputOptions): JsonInputViolation[] {
  // Reads text that JSON.parse accepted: every string is closed, every bracket matched.
  const limit = options.maxDepth + (options.depthBase ?? 0);
  const maxViolations = options.maxViolations ?? 1_000;
  const violations: JsonInputViolation[] = [];
  const frames: Frame[] = [];
  let depth = 0;
  /** The depth of a container too deep to look into, while inside it. */
  let skipping = 0;
  const report = (reason: JsonInputReason, message: string, key?: string): void => {
    if (violations.length < maxViolations) violations.push({ path: pathOf(frames, key), reason, message });
  };
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      let escaped = false;
      while (end < length) {
        const d = text.charCodeAt(end);
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          escaped = true;
          end += 2;
        } else end += 1;
      }
      const top = frames[frames.length - 1];
      // Only an escape can spell a lone surrogate: raw text was valid UTF-8.
      const decoded = escaped && skipping === 0 ? (JSON.parse(text.slice(i, end + 1)) as string) : undefined;
      if (skipping === 0 && top !== undefined && top.awaitingKey) {
        const key = decoded ?? text.slice(i + 1, end);
        if (decoded !== undefined && !isWellFormed(decoded)) report('text', 'is a key that is not Unicode text (a lone surrogate escape)', key);
        if (top.keys!.includes(key)) report('duplicate-key', 'is given more than once', key);
        else top.keys!.push(key);
        top.key = key;
        top.awaitingKey = false;
      } else if (decoded !== undefined && !isWellFormed(decoded)) {
        report('text', 'is not Unicode text (a lone surrogate escape)');
      }
      i = end + 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth += 1;
      if (skipping === 0) {
        if (depth > limit) {
          report('depth', `nests deeper than ${options.maxDepth} levels`);
          skipping = depth;
        } else {
          const array = c === OPEN_ARRAY;
          frames.push({ array, key: '', index: 0, keys: array ? undefined : [], awaitingKey: !array });
        }
      }
      i += 1;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (skipping === 0) frames.pop();
      else if (depth === skipping) skipping = 0;
      depth -= 1;
      i += 1;
    } else if (c === COMMA) {
      const top = frames[frames.length - 1];
      if (skipping === 0 && top !== undefined) {
        if (top.array) top.index += 1;
        else top.awaitingKey = true;
      }
      i += 1;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      let end = i + 1;
      while (end < length && isNumberChar(text.charCodeAt(end))) end += 1;
      if (skipping === 0) {
        const problem = numberProblem(text.slice(i, end));
        if (problem !== undefined) report('number', problem);
      }
      i = end;
    } else {
      // Whitespace, ':' and the letters of true, false and null.
      i += 1;
    }
  }
  return violations;
}

function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function isNumberChar(c: number): boolean {
  // digits, '+', '-', '.', 'e', 'E'
  return (c >= DIGIT_0 && c <= DIGIT_9) || c === 0x2b || c === MINUS || c === 0x2e || c === 0x65 || c === 0x45;
}

/**
 * The path of the value being read: each frame's key or index. `key` replaces the
 * innermost key (a duplicate key is reported at itself, before its frame records it).
 */
function pathOf(frames: readonly Frame[], key?: string): string {
  let path = '';
  const last = frames.length - 1;
  for (let i = 0; i <= last; i++) {
    const frame = frames[i]!;
    if (frame.array) path += `[${frame.index}]`;
    else {
      const name = i === last && key !== undefined ? key : frame.key;
      path += /^\d+$/.test(name) ? `[${name}]` : path === '' ? name : `.${name}`;
    }
  }
  return path;
}

/** Why a JSON number token cannot be carried exactly, or undefined when it can. */
export function numberProblem(token: string): string | undefined {
  const value = Number(token);
  if (!Number.isFinite(value)) return 'is a number too large to be represented';
  // What JSON.stringify writes for it; the common case is the same text.
  const written = String(value);
  if (written === token) return Number.isInteger(value) && !Number.isSafeInteger(value) ? unsafeInteger() : undefined;
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) return unsafeInteger();
  if (Object.is(value, -0)) return 'is negative zero, which JSON consumers read as 0';
  if (!sameDecimal(token, written)) return `is a number that cannot be represented exactly (it would arrive as ${written})`;
  return undefined;
}

function unsafeInteger(): string {
  return 'is an integer outside +-9007199254740991, which JSON consumers cannot hold exactly';
}

/** Whether two JSON number texts denote the same decimal value (`1e30` and `1e+30`, `1.50` and `1.5`). */
function sameDecimal(a: string, b: string): boolean {
  const x = decimalOf(a);
  const y = decimalOf(b);
  return x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent;
}

/** sign, significant digits without leading or trailing zeros, power of ten of the last digit. */
function decimalOf(token: string): { negative: boolean; digits: string; exponent: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token)!;
  const fraction = match[3] ?? '';
  let digits = (match[2]! + fraction).replace(/^0+/, '');
  let exponent = Number(match[4] ?? '0') - fraction.length;
  const trimmed = digits.replace(/0+$/, '');
  exponent += digits.length - trimmed.length;
  digits = trimmed;
  if (digits === '') return { negative: false, digits: '0', exponent: 0 };
  return { negative: match[1] === '-', digits, exponent };
}
