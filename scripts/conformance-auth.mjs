/**
 * Preloaded (`node --import`) into the MCP conformance suite, which has no option to send
 * credentials: adds `Authorization: Bearer $MCP_CONFORMANCE_TOKEN` to every request the suite
 * sends to `$MCP_CONFORMANCE_URL`'s origin, through undici's global dispatcher (used by both
 * `fetch` and `undici.request`). The server under test stays exactly as deployed.
 */
import { Agent, setGlobalDispatcher } from 'undici';

const token = process.env.MCP_CONFORMANCE_TOKEN;
const target = new URL(process.env.MCP_CONFORMANCE_URL ?? '').origin;

function withAuthorization(headers) {
  const value = `Bearer ${token}`;
  if (Array.isArray(headers)) return [...headers, 'authorization', value];
  if (headers && typeof headers[Symbol.iterator] === 'function')
    return [...[...headers].flat(), 'authorization', value];
  return { ...(headers ?? {}), authorization: value };
}

setGlobalDispatcher(
  new Agent().compose((dispatch) => (options, handler) => {
    const origin = typeof options.origin === 'string' ? options.origin : options.origin?.origin;
    return dispatch(
      origin === target ? { ...options, headers: withAuthorization(options.headers) } : options,
      handler,
    );
  }),
);
