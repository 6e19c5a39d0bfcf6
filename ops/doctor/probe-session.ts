/**
 * The write probe's calls on one org, for one channel's LINE account: each one request with no retry (http-probe),
 * authenticated, in the shapes the worker sends (lib/capillary), read back defensively.
 */
import { randomBytes } from 'node:crypto';

import { lineSubscriptions } from '../../lib/capillary/customer-calls';
import { lineProfileOf, type ProfileView } from '../../lib/capillary/member-profiles';
import type { CapillaryOrgConfig } from '../../lib/config/capillary-orgs';
import type { CapillaryConfig } from '../../lib/config/capillary-registration';
import { errorCodesOf } from './capillary-checks';
import { isAnswer, probe, type ProbeOutcome } from './http-probe';

export type SubscriptionType = 'OPTIN' | 'OPTOUT';
export type Identifier = { type: string; value: string };

/** A well-formed LINE user id no one has: what the probe attaches, then takes off again. */
export const probeLineUserId = (): string => `U${randomBytes(16).toString('hex')}`;

/** No error code and no HTTP error: what the worker takes as done. */
export const accepted = (outcome: ProbeOutcome): boolean =>
  isAnswer(outcome) && outcome.status < 400 && errorCodesOf(outcome.body).length === 0;

/** `HTTP 400, codes 8013`, or why nothing answered. */
export function describe(outcome: ProbeOutcome): string {
  if (!isAnswer(outcome)) return `no answer: ${outcome.unreachable}`;
  const codes = errorCodesOf(outcome.body);
  return `HTTP ${outcome.status}${codes.length > 0 ? `, codes ${codes.join(', ')}` : ''}`;
}

/** The customer an add answered with (`createdId`), if any. */
export function createdIdOf(outcome: ProbeOutcome): number | undefined {
  const createdId = isAnswer(outcome) ? (outcome.body as { createdId?: unknown } | undefined)?.createdId : undefined;
  return typeof createdId === 'number' ? createdId : undefined;
}

/** The warning codes of an answer (`warnings[].code`). */
export function warningCodesOf(outcome: ProbeOutcome): number[] {
  const warnings = isAnswer(outcome) ? (outcome.body as { warnings?: { code?: unknown }[] } | undefined)?.warnings : [];
  return Array.isArray(warnings) ? warnings.map((item) => Number(item.code)) : [];
}

export class ProbeSession {
  constructor(
    readonly area: string,
    private readonly org: CapillaryOrgConfig,
    private readonly headers: Record<string, string>,
    /** the channel's Source Account ID */
    readonly accountId: string,
    private readonly capillary: Pick<CapillaryConfig, 'orgUnitId'>,
  ) {}

  get(path: string): Promise<ProbeOutcome> {
    return probe(`${this.org.baseUrl}${path}`, { headers: this.headers });
  }

  post(path: string, body: unknown): Promise<ProbeOutcome> {
    return probe(`${this.org.baseUrl}${path}`, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  /** The LINE channel's subscription entries (both priorities) as the worker sends them. */
  subscriptions(literal: string, type: SubscriptionType) {
    return lineSubscriptions(this.capillary, this.accountId, literal, type);
  }

  setLineState(customerId: number, literal: string, type: SubscriptionType): Promise<ProbeOutcome> {
    return this.post(`/v2/customers/${customerId}/subscriptions`, {
      communicationId: -1,
      campaignId: -1,
      reason: 'line-capillary-bridge doctor probe',
      scope: { scope: 'USER', subScope: 'NONE' },
      subscriptions: this.subscriptions(literal, type),
    });
  }

  /** OPTIN / OPTOUT of the account's LINE subscription (BULK); undefined when it has none or it cannot be read. */
  async lineState(customerId: number): Promise<SubscriptionType | undefined> {
    const answer = await this.get(`/v2/customers/${customerId}/subscriptions`);
    if (!isAnswer(answer)) return undefined;
    const entries = (answer.body as { subscriptions?: Record<string, unknown>[] } | undefined)?.subscriptions;
    const entry = (Array.isArray(entries) ? entries : []).find(
      (item) =>
        String(item.channel).toUpperCase() === 'LINE' &&
        String(item.accountId) === this.accountId &&
        item.priority === 'BULK',
    );
    return entry?.type === 'OPTIN' || entry?.type === 'OPTOUT' ? entry.type : undefined;
  }

  /** The customer's profiles (`GET /v2/customers/{id}?source=ALL`), undefined when they cannot be read. */
  async profiles(customerId: number): Promise<ProfileView[] | undefined> {
    const answer = await this.get(`/v2/customers/${customerId}?source=ALL`);
    const profiles = isAnswer(answer) ? (answer.body as { profiles?: unknown } | undefined)?.profiles : undefined;
    return Array.isArray(profiles) ? (profiles as ProfileView[]) : undefined;
  }

  /** Whether the customer's profile of this account carries the LINE user; undefined when it cannot be read. */
  async holdsLineUser(customerId: number, lineUserId: string): Promise<boolean | undefined> {
    const profiles = await this.profiles(customerId);
    return profiles === undefined ? undefined : lineProfileOf(profiles, this.accountId, lineUserId) !== undefined;
  }

  changeIdentifiers(customerId: number, change: 'add' | 'remove', identifiers: Identifier[]): Promise<ProbeOutcome> {
    const query = new URLSearchParams({ source: 'LINE', accountId: this.accountId });
    return this.post(`/v2/customers/${customerId}/changeIdentifier?${query}`, { [change]: identifiers });
  }

  /**
   * Takes what a probe attached off the customer's LINE profile (as the worker's detach does), then reads the
   * customer back: `undone`, or what to remove by hand.
   */
  async undoAttach(customerId: number, identifiers: Identifier[]): Promise<string> {
    const lineUserId = identifiers.find(({ type }) => type === 'line')?.value as string;
    const removed = await this.changeIdentifiers(customerId, 'remove', identifiers);
    const held = await this.holdsLineUser(customerId, lineUserId);
    if (accepted(removed) && held === false) return 'undone';
    return `NOT undone (${describe(removed)}): remove LINE id ${lineUserId} of account ${this.accountId} from customer ${customerId} by hand`;
  }
}
