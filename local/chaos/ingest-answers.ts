/**
 * Which behavioural-event posts the bridge never got an answer to (a client timeout, a reset connection): such a
 * post may have been taken by Capillary, so the bridge posts it again, and no client can do otherwise
 * (docs/engagement.md#once). The engagement oracle allows one more post per answer lost, and no other repeat.
 */
import { FrozenSandboxError } from './lambda-sandbox';

export interface IngestAnswers {
  /** external_event_id → attempts whose answer never reached the bridge */
  readonly lost: ReadonlyMap<string, number>;
  stop(): void;
}

/** Watches every fetch to an ingest URL (`/webhooks/…`) until stopped. */
export function watchIngestAnswers(): IngestAnswers {
  const lost = new Map<string, number>();
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const eventId = ingestEventIdOf(input, init);
    try {
      return await original(input, init);
    } catch (error) {
      // A ghost's call never left the sandbox: nothing was sent, so nothing can have been taken.
      if (eventId !== undefined && !(error instanceof FrozenSandboxError))
        lost.set(eventId, (lost.get(eventId) ?? 0) + 1);
      throw error;
    }
  };
  return {
    lost,
    stop: () => {
      globalThis.fetch = original;
    },
  };
}

function ingestEventIdOf(input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): string | undefined {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!new URL(url).pathname.startsWith('/webhooks/') || typeof init?.body !== 'string') return undefined;
  try {
    const eventId = (JSON.parse(init.body) as { external_event_id?: unknown }).external_event_id;
    return typeof eventId === 'string' ? eventId : undefined;
  } catch {
    return undefined;
  }
}
