import { BridgeError } from '../errors';

/** Capillary answered, and the answer is a failure that retrying will not fix. */
export class CapillaryApiError extends BridgeError {
  override readonly name: string = 'CapillaryApiError';

  constructor(
    public readonly operation: string,
    public readonly status: number,
    public readonly codes: number[],
    public readonly requestId: string | undefined,
    detail: string,
  ) {
    super(`Capillary ${operation} failed: HTTP ${status}, codes [${codes.join(', ')}] ${detail}`.trim());
  }
}

/** Capillary kept failing transiently (throttled, 5xx, unreachable, timeouts) or the invocation ran out of time. */
export class CapillaryUnavailableError extends BridgeError {
  override readonly name = 'CapillaryUnavailableError';

  constructor(
    public readonly operation: string,
    public readonly attempts: number,
    public readonly lastProblem: string,
    options?: { cause?: unknown },
  ) {
    super(`Capillary ${operation} still failing after ${attempts} attempts (last: ${lastProblem})`, options);
  }
}

/** The org rejects lookups by this identifier (8013): it cannot be searched that way. */
export class LookupUnsupportedError extends CapillaryApiError {
  override readonly name = 'LookupUnsupportedError';

  constructor(
    public readonly identifierName: string,
    requestId: string | undefined,
  ) {
    super(
      'lookup-customer',
      400,
      [8013],
      requestId,
      `(this org does not support lookup by ${identifierName}; use CAPILLARY_REGISTRATION_MODE=instore+line)`,
    );
  }
}

export class CustomerNotResolvedError extends BridgeError {
  override readonly name = 'CustomerNotResolvedError';

  constructor(public readonly via: string) {
    super(`Capillary says the customer already exists but the lookup by ${via} did not find it`);
  }
}

/** Customer-gone codes saying the customer lives on in a merge survivor (envelope.ts CUSTOMER_GONE_CODES has all). */
export const CUSTOMER_MERGED_CODES: ReadonlySet<number> = new Set([8069, 91009]);
/** "Customer is deleted after PII delete request" (docs/capillary.md#codes). */
export const CUSTOMER_DELETED_CODE = 8109;

/**
 * Capillary no longer has the customer a call named (merged away, deleted on a PII request, or unknown):
 * retrying cannot help; the worker looks the user up again instead (docs/architecture.md#identity-who-is-who-stays-true).
 */
export class CustomerGoneError extends BridgeError {
  override readonly name = 'CustomerGoneError';

  constructor(
    public readonly operation: string,
    public readonly customerId: number,
    public readonly codes: number[],
    options?: { cause?: unknown },
  ) {
    super(`Capillary ${operation}: customer ${customerId} is gone (codes [${codes.join(', ')}])`, options);
  }

  /** Merged into another customer (which carries its profiles now), rather than deleted or not found. */
  get merged(): boolean {
    return this.codes.some((code) => CUSTOMER_MERGED_CODES.has(code));
  }

  /** Deleted on a PII request: the person asked to be gone, at a time only the deletion's notice gives. */
  get deleted(): boolean {
    return !this.merged && this.codes.includes(CUSTOMER_DELETED_CODE);
  }
}
