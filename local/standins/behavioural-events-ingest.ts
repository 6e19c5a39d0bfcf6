/**
 * The Capillary stand-in's behavioural-events integration URL (docs/engagement.md#local): Capillary makes one
 * URL per webhook integration (`https://<gateway>/<cluster>/webhooks/<hash>`); the stand-in serves
 * `POST /webhooks/<integrationId>`, checks Basic auth and the body the bridge sends, and records every event
 * it takes, duplicates included: Capillary takes a duplicate too (its uniqueness check only keeps the
 * duplicate from earning), so the state counts them per external_event_id.
 */
import { randomUUID } from 'node:crypto';

import { isRecord } from '../../lib/is-record';
import { LOCAL_CREDENTIALS } from '../local-credentials';
import { InvalidAdminRequestError, type Clock, type StandInReply } from './standin-kit';

export const LOCAL_BEHAVIOURAL_EVENTS_INTEGRATION = 'local-engagement';
/** `user:password` of the local integration (Capillary shows them with the integration's URL). */
export const LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS = LOCAL_CREDENTIALS.capillaryBehaviouralEventsCredentials;
export const behaviouralEventsPath = (integrationId: string): string =>
  `/webhooks/${encodeURIComponent(integrationId)}`;

export interface BehaviouralEventsOptions {
  integrationId?: string;
  /** `user:password` */
  credentials?: string;
  /** the event's field of type customer (the Capillary customer id) */
  customerField?: string;
}

export interface PostedBehaviouralEvent {
  seq: number;
  receivedAt: string;
  eventName: string;
  externalEventId: string;
  customerId: string;
  /** whether the stand-in has that customer: Capillary takes the event either way and resolves it later */
  knownCustomer: boolean;
  /** as posted */
  body: Record<string, unknown>;
}

export interface BehaviouralEventsState {
  posted: PostedBehaviouralEvent[];
  /** external_event_id → how many times it was posted, for those posted more than once */
  duplicates: Record<string, number>;
  /** posts refused with 429 by behaviouralEventsRateLimitPerMinute */
  overLimit: number;
}

/** The next `times` well-formed posts are refused with HTTP 400 (as for a value Capillary finds invalid). */
export interface BehaviouralEventRefusal {
  times: number;
  message?: string;
}

const RATE_WINDOW_MS = 60_000;
const EVENT_DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const DEFAULT_REFUSAL = 'Invalid value for an attribute of the event';

/** `yyyy-MM-dd HH:mm:ss` naming a real instant (no 2026-02-30, no 24:00:00): it reads back the same. */
function isEventDateTime(value: unknown): boolean {
  if (typeof value !== 'string' || !EVENT_DATE_TIME.test(value)) return false;
  const date = new Date(`${value.replace(' ', 'T')}Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 19).replace('T', ' ') === value;
}

/** What is wrong with the body, or undefined: the bridge's fields, and a flat JSON object as Capillary takes. */
function bodyProblem(body: unknown, customerField: string): string | undefined {
  if (!isRecord(body)) return 'The body must be a JSON object of the event fields';
  for (const field of ['event_name', 'external_event_id', customerField])
    if (typeof body[field] !== 'string' || body[field] === '') return `${field} is required (a non-empty string)`;
  if (!isEventDateTime(body.eventDateTime)) return 'eventDateTime must be yyyy-MM-dd HH:mm:ss';
  const nested = Object.keys(body).find((field) => typeof body[field] === 'object' && body[field] !== null);
  return nested === undefined ? undefined : `${nested} must be a string, number or boolean`;
}

export function parseRefusal(body: unknown): BehaviouralEventRefusal {
  if (!isRecord(body) || !Number.isInteger(body.times) || (body.times as number) < 1)
    throw new InvalidAdminRequestError('body must be {"times": N >= 1, "message"?: "..."}');
  return { times: body.times as number, ...(typeof body.message === 'string' ? { message: body.message } : {}) };
}

/** The ingest's own state; the stand-in supplies the clock, the rate limit setting and who its customers are. */
export class BehaviouralEventsIngest {
  readonly integrationId: string;
  readonly #credentials: string;
  readonly #customerField: string;
  #posted: PostedBehaviouralEvent[] = [];
  #acceptedTimes: number[] = [];
  #overLimit = 0;
  #refusals: BehaviouralEventRefusal[] = [];

  constructor(
    options: BehaviouralEventsOptions,
    private readonly clock: Clock,
    private readonly errorBody: (status: number, message: string) => unknown,
  ) {
    this.integrationId = options.integrationId ?? LOCAL_BEHAVIOURAL_EVENTS_INTEGRATION;
    this.#credentials = options.credentials ?? LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS;
    this.#customerField = options.customerField ?? 'customer_id';
  }

  /** `POST /webhooks/<integrationId>`: 404, 401, 429, 400, or 200 with Capillary's "pushed" answer. */
  post(
    integrationId: string | undefined,
    authorization: string | undefined,
    body: unknown,
    context: { rateLimitPerMinute: number | null; isCustomer: (id: number) => boolean },
  ): StandInReply {
    const refuse = (status: number, message: string) => ({ status, body: this.errorBody(status, message) });
    if (integrationId !== this.integrationId) return refuse(404, `No webhook integration ${String(integrationId)}`);
    const basic = authorization?.match(/^Basic (.+)$/)?.[1];
    if (basic === undefined || Buffer.from(basic, 'base64').toString('utf8') !== this.#credentials)
      return refuse(401, 'Authentication failed');
    if (!this.#withinRateLimit(context.rateLimitPerMinute)) {
      this.#overLimit += 1;
      return refuse(429, 'Rate limit exceeded, try after some time');
    }
    const problem = bodyProblem(body, this.#customerField);
    if (problem !== undefined) return refuse(400, problem);
    const refusal = this.#refusals[0];
    if (refusal !== undefined) {
      if (refusal.times === 1) this.#refusals.shift();
      else refusal.times -= 1;
      return refuse(400, refusal.message ?? DEFAULT_REFUSAL);
    }
    const fields = body as Record<string, string>;
    const customerId = fields[this.#customerField] as string;
    this.#posted.push({
      seq: this.#posted.length + 1,
      receivedAt: new Date(this.clock()).toISOString(),
      eventName: fields.event_name as string,
      externalEventId: fields.external_event_id as string,
      customerId,
      knownCustomer: /^\d+$/.test(customerId) && context.isCustomer(Number(customerId)),
      body: structuredClone(fields),
    });
    const status = { code: 1100, message: 'Event is pushed to transformation state' };
    return { status: 200, body: { status, requestId: randomUUID() } };
  }

  refuse(refusal: BehaviouralEventRefusal): { pending: BehaviouralEventRefusal[] } {
    this.#refusals.push({ ...refusal });
    return { pending: this.#refusals.map((pending) => ({ ...pending })) };
  }

  state(): BehaviouralEventsState {
    const times = new Map<string, number>();
    for (const { externalEventId } of this.#posted) times.set(externalEventId, (times.get(externalEventId) ?? 0) + 1);
    return {
      posted: structuredClone(this.#posted),
      duplicates: Object.fromEntries([...times].filter(([, count]) => count > 1)),
      overLimit: this.#overLimit,
    };
  }

  reset(): void {
    this.#posted = [];
    this.#acceptedTimes = [];
    this.#overLimit = 0;
    this.#refusals = [];
  }

  /** Sliding window over accepted posts, as the stand-in's limit on the REST API. */
  #withinRateLimit(limit: number | null): boolean {
    const now = this.clock();
    this.#acceptedTimes = this.#acceptedTimes.filter((time) => time > now - RATE_WINDOW_MS);
    if (limit !== null && this.#acceptedTimes.length >= limit) return false;
    this.#acceptedTimes.push(now);
    return true;
  }
}
