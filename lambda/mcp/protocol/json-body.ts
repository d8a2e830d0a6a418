/**
 * Parses a POSTed JSON-RPC body with a bound on how deeply it nests. V8's `JSON.parse` copes
 * with any depth, but what walks the value afterwards (schema validation, `JSON.stringify`, the
 * logger) recurses, and a 256 KB body can nest 100,000 levels: refused here, before parsing.
 */
import { ErrorCode, RpcError } from './protocol.js';

/** Deepest nesting accepted: a batch, a message, its params and 60 levels of tool arguments. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Whether `text` opens more than `max` arrays or objects at once, brackets inside strings aside. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** The parsed body, or the `RpcError` to answer with: -32600 when too deep, -32700 when not JSON. */
export function parseJsonBody(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (nestsDeeperThan(text, maxDepth)) {
    throw new RpcError(
      ErrorCode.InvalidRequest,
      `Bad Request: the request body nests deeper than ${maxDepth} levels`,
      400,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RpcError(ErrorCode.ParseError, 'Parse error: Invalid JSON', 400);
  }
}
