import { isRecord } from '../is-record';
import { CapillaryApiError } from './errors';

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

export const warningCodes = (body: CapillaryEnvelope): number[] => (body.warnings ?? []).map((w) => Number(w.code));

/** A failed answer as an error: status, codes, X-Cap-Requestid and the messages Capillary gave. */
export function apiErrorOf(operation: string, response: CapillaryResponse): CapillaryApiError {
  const messages = (response.body.errors ?? [])
    .map((e) => e.message)
    .filter(Boolean)
    .join('; ');
  return new CapillaryApiError(operation, response.status, errorCodes(response.body), response.requestId, messages);
}
