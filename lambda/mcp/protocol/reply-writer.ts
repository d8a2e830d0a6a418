/**
 * Serializes the replies to one POST within a byte budget. Every request is bounded (body size,
 * batch length, nesting), but a reply is what a method makes of it: a batch of 100 requests for
 * a large result, or one tool that returns too much, must not build a response that Lambda
 * (6 MB) or a client cannot take. A reply that does not fit, or cannot be serialized at all, is
 * replaced by a short JSON-RPC error for its id, and once the budget is spent the rest of a batch
 * is not run.
 */
import type { RequestId } from '@modelcontextprotocol/server';
import type { Logger } from '../../shared/logger.js';
import { rpcError, type JsonRpcReply } from './dispatcher.js';
import { ErrorCode, RpcError } from './protocol.js';

/** Largest response body `/mcp` sends, unless configured otherwise. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export class ReplyWriter {
  private readonly parts: string[] = [];
  /** Bytes so far, counting a batch's brackets and commas. */
  private bytes = 1;
  private spent = false;

  constructor(
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Whether a reply has already been refused for size: later ones should not be computed. */
  get full(): boolean {
    return this.spent;
  }

  /** The error that stands in for a reply that would not fit. */
  tooLarge(id: RequestId | null): JsonRpcReply {
    const error = new RpcError(
      ErrorCode.ServerError,
      `Response Too Large: the reply would exceed ${this.maxBytes} bytes`,
    );
    return rpcError(id, error);
  }

  add(reply: JsonRpcReply): void {
    let text = this.serialize(reply);
    let size = Buffer.byteLength(text, 'utf8') + 1;
    if (this.spent || this.bytes + size > this.maxBytes) {
      this.spent = true;
      text = JSON.stringify(this.tooLarge(reply.id));
      size = Buffer.byteLength(text, 'utf8') + 1;
    }
    this.parts.push(text);
    this.bytes += size;
  }

  get count(): number {
    return this.parts.length;
  }

  /** The body for a single request. */
  single(): string {
    return this.parts[0]!;
  }

  /** The body for a batch. */
  batch(): string {
    return `[${this.parts.join(',')}]`;
  }

  private serialize(reply: JsonRpcReply): string {
    try {
      return JSON.stringify(reply);
    } catch (error) {
      // A result with a BigInt, a cycle or runaway depth: a server bug, answered without detail.
      this.logger.error('reply cannot be serialized', { error });
      return JSON.stringify(rpcError(reply.id, new RpcError(ErrorCode.InternalError, 'Internal error')));
    }
  }
}
