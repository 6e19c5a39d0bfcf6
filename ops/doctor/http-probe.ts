/** One request, no retry: the doctor reports what the service answers now, or why nothing answered. */
import { networkProblem } from './check';

export interface ProbeAnswer {
  status: number;
  /** parsed JSON; undefined when the body was not JSON */
  body: unknown;
  headers: Headers;
}

export type ProbeOutcome = ProbeAnswer | { unreachable: string };

export const DOCTOR_TIMEOUT_MS = 10_000;

export async function probe(url: string, init: RequestInit = {}, timeoutMs = DOCTOR_TIMEOUT_MS): Promise<ProbeOutcome> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, body, headers: response.headers };
  } catch (error) {
    return { unreachable: networkProblem(error) };
  }
}

export const isAnswer = (outcome: ProbeOutcome): outcome is ProbeAnswer => !('unreachable' in outcome);

/** A field of a JSON object body, as text. */
export function field(body: unknown, name: string): string | undefined {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return value === undefined || value === null ? undefined : String(value);
}
