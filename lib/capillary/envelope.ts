import { isRecord } from '../is-record';
import { CapillaryApiError, CUSTOMER_DELETED_CODE, CUSTOMER_MERGED_CODES } from './errors';

/** Capillary's envelope: success or failure is in the body, not only in the HTTP status. */
export interface CapillaryMessage {
  status?: boolean;
  code: number;
  message?: string;
}

export interface CapillaryEnvelope {
  errors?: CapillaryMessage[] | null;
  warnings?: CapillaryMessage[] | null;
  [field: string]: unknown;
}

export interface CapillaryResponse {
  status: number;
  body: CapillaryEnvelope;
  requestId: string | undefined;
  attempts: number;
}

/** Throttling and "try again later" answers (docs/capillary.md#retries): retried with backoff. */
export const RETRIABLE_STATUSES: ReadonlySet<number> = new Set([429, 461, 502, 503, 504, 521]);

/** The envelope in a body's text; throws when the text is not JSON. */
export function envelopeOf(text: string): CapillaryEnvelope {
  const json: unknown = text ? JSON.parse(text) : {};
  // A JSON answer that is not an object (null, a number) carries no envelope.
  return isRecord(json) ? (json as CapillaryEnvelope) : {};
}

export const errorCodes = (body: CapillaryEnvelope): number[] => (body.errors ?? []).map((e) => Number(e.code));

/**
 * A call naming a customer id answered that Capillary no longer has that customer: not found (1012, 8015,
 * 8065), merged into another (8069, 91009) or deleted on a PII request (8109), docs/capillary.md#codes.
 */
export const CUSTOMER_GONE_CODES: ReadonlySet<number> = new Set([
  1012,
  8015,
  8065,
  ...CUSTOMER_MERGED_CODES,
  CUSTOMER_DELETED_CODE,
]);

export const goneCodesOf = (body: CapillaryEnvelope): number[] =>
  errorCodes(body).filter((code) => CUSTOMER_GONE_CODES.has(code));

export const warningCodes = (body: CapillaryEnvelope): number[] => (body.warnings ?? []).map((w) => Number(w.code));

/** A failed answer as an error: status, codes, X-Cap-Requestid and the messages Capillary gave. */
export function apiErrorOf(operation: string, response: CapillaryResponse): CapillaryApiError {
  const messages = (response.body.errors ?? [])
    .map((e) => e.message)
    .filter(Boolean)
    .join('; ');
  return new CapillaryApiError(operation, response.status, errorCodes(response.body), response.requestId, messages);
}
