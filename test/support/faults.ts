/**
 * Faults a loopback stand-in for an AWS service can be told to inject, the way the real services
 * misbehave: throttle (HTTP 400 with the service's throttling error type), fail (HTTP 500 with
 * its internal error type), hang (accept the request, never answer) or drop the connection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type FaultKind = 'throttle' | 'fail' | 'hang' | 'drop';

export interface FaultSwitch {
  /** The fault to inject into every matching call from now on; undefined serves normally. */
  set(kind: FaultKind | undefined, options?: { targets?: string[] }): void;
}

/** The error types each service answers a fault with (its JSON protocol's `__type`). */
export interface FaultErrorTypes {
  throttle: string;
  fail: string;
  contentType: string;
}

export function faultSwitch(): FaultSwitch & {
  /** Injects the fault into this call if one applies; true when it did (the call is handled). */
  inject(req: IncomingMessage, res: ServerResponse, target: string, types: FaultErrorTypes): boolean;
} {
  let current: { kind: FaultKind; targets: string[] | undefined } | undefined;
  return {
    set(kind, options = {}) {
      current = kind ? { kind, targets: options.targets } : undefined;
    },
    inject(req, res, target, types) {
      if (!current || (current.targets && !current.targets.includes(target))) return false;
      const error = (status: number, type: string, message: string) =>
        res
          .writeHead(status, { 'content-type': types.contentType })
          .end(JSON.stringify({ __type: type, message }));
      switch (current.kind) {
        case 'throttle':
          error(400, types.throttle, 'Rate exceeded');
          break;
        case 'fail':
          error(500, types.fail, 'The service encountered an internal error');
          break;
        case 'hang':
          // Never answered; the server's close() destroys the socket.
          break;
        case 'drop':
          req.socket.destroy();
          break;
      }
      return true;
    },
  };
}
