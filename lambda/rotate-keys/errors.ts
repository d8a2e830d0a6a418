/**
 * Why a rotation step refused to run. Secrets Manager retries a failed step and, after the
 * retries, leaves the secret's AWSCURRENT version untouched, so refusing is always safe.
 */
export class RotationError extends Error {
  readonly code: RotationErrorCode;
  constructor(code: RotationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RotationError';
    this.code = code;
  }
}

export type RotationErrorCode =
  /** The secret has rotation turned off; a stray invocation must not change it. */
  | 'ERR_ROTATION_DISABLED'
  /** The token names no version of the secret, or one that is not staged AWSPENDING. */
  | 'ERR_VERSION_NOT_STAGED'
  /** The event carries a step this function does not know. */
  | 'ERR_UNKNOWN_STEP'
  /** The pending key set failed a check in `testSecret`. */
  | 'ERR_PENDING_KEY_SET_INVALID';
