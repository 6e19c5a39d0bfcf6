import type { CapillaryConfig } from '../config/config';
import type { SubscriptionState } from '../domain/sync-rules';
import { CustomerNotResolvedError, LookupUnsupportedError } from './errors';
import { type CallOptions, type CapillaryHttpClient, type CapillaryResponse, apiErrorOf, errorCodes, warningCodes } from './http-client';

/** Codes from docs/capillary.md#codes. */
const ALREADY_EXISTS = 8006;
const MERGED = 8050;
const NOT_FOUND = new Set([8015, 8065]);
const INVALID_IDENTIFIER_NAME = 8013;
const INVALID_CHANNEL = 1101;

export interface Registration {
  customerId: number;
  /** true when the LINE opt-in travelled inside the add-customer call and was accepted */
  subscribed: boolean;
  merged: boolean;
}

/** The LINE channel's subscription entries (both priorities, docs/capillary.md#subscriptions) for one state. */
export function lineSubscriptions(config: Pick<CapillaryConfig, 'orgUnitId'>, lineAccountId: string, channel: string, state: SubscriptionState) {
  const { orgUnitId } = config;
  return (['BULK', 'TRANS'] as const).map((priority) => ({
    channel,
    priority,
    type: state,
    accountId: lineAccountId,
    sourceName: 'LINE',
    ...(orgUnitId === undefined ? {} : { orgUnitId }),
  }));
}

/**
 * The Capillary side of a LINE follower: register (INSTORE + LINE profile, or LINE only), find,
 * and set the LINE subscription. Every call is safe to repeat: an add that already happened
 * answers 8006 and is resolved by a lookup; subscriptions are absolute states.
 */
export class LineCustomerDirectory {
  #subscriptionChannel: string;

  /** @param lineAccountId the channel's Source Account ID: on every LINE profile, lookup and subscription */
  constructor(private readonly http: CapillaryHttpClient, private readonly config: CapillaryConfig, private readonly lineAccountId: string) {
    this.#subscriptionChannel = config.subscriptionChannel;
  }

  /** CAPILLARY_REGISTRATION_MODE=on-link: followers get a customer only when they link (docs/architecture.md#linking). */
  get defersRegistration(): boolean {
    return this.config.registrationMode === 'on-link';
  }

  externalIdFor(lineUserId: string): string {
    return `${this.config.externalIdPrefix}${lineUserId}`;
  }

  async register(lineUserId: string, displayName: string | undefined, call: CallOptions): Promise<Registration> {
    const names = displayName ? { firstName: displayName.slice(0, 100), lastName: '' } : {};
    let instoreCustomerId: number | undefined;
    if (this.config.registrationMode === 'instore+line') {
      // Capillary's LINE guide: an unknown user gets an INSTORE profile and a LINE profile on one
      // customer. A follow carries no phone number, so both profiles share an externalId to merge on.
      const instore = await this.#addProfile(call, 'add-customer-instore', {
        ...names,
        identifiers: [{ type: 'externalId', value: this.externalIdFor(lineUserId) }],
        source: 'INSTORE',
        accountId: '',
      });
      instoreCustomerId = instore.customerId ?? (await this.#requireLookup(call, 'INSTORE', 'externalId', this.externalIdFor(lineUserId)));
    }
    const subscriptionInfo = this.config.subscribeOnRegister ? { subscriptions: this.#subscriptions('OPTIN') } : undefined;
    const identifiers = [{ type: 'line', value: lineUserId }];
    if (instoreCustomerId !== undefined) identifiers.push({ type: 'externalId', value: this.externalIdFor(lineUserId) });
    const line = await this.#addProfile(call, 'add-customer-line', {
      ...names,
      identifiers,
      commChannels: [{ type: 'line', value: lineUserId, primary: true, verified: true, meta: { residence: true } }],
      source: 'LINE',
      accountId: this.lineAccountId,
    }, subscriptionInfo);
    if (line.customerId !== undefined) {
      return { customerId: line.customerId, subscribed: subscriptionInfo !== undefined, merged: line.merged };
    }
    // 8006: the LINE profile exists already (a retry after a lost response, or registered elsewhere).
    const customerId = instoreCustomerId ?? (await this.#requireLookup(call, 'LINE', 'line', lineUserId));
    return { customerId, subscribed: false, merged: false };
  }

  /**
   * The customer holding this LINE user, if Capillary has one; undefined also when this org cannot be
   * searched by LINE id, so an unfollow is still recorded rather than retried forever.
   */
  async find(lineUserId: string, call: CallOptions): Promise<number | undefined> {
    try {
      if (this.config.registrationMode === 'line-only') return await this.#lookup(call, 'LINE', 'line', lineUserId);
      // A customer the backfill registered has only the LINE profile, which carries the same externalId.
      return (await this.#lookup(call, 'INSTORE', 'externalId', this.externalIdFor(lineUserId)))
        ?? (await this.#lookup(call, 'LINE', 'externalId', this.externalIdFor(lineUserId)));
    } catch (error) {
      if (error instanceof LookupUnsupportedError) return undefined;
      throw error;
    }
  }

  async setSubscription(customerId: number, state: SubscriptionState, call: CallOptions): Promise<void> {
    const send = () => this.http.request('update-subscription', 'POST', `/v2/customers/${customerId}/subscriptions`, {
      communicationId: -1,
      campaignId: -1,
      reason: state === 'OPTIN' ? 'LINE follow event' : 'LINE unfollow event',
      scope: { scope: 'USER', subScope: 'NONE' },
      subscriptions: this.#subscriptions(state),
    }, call);
    let response = await send();
    // The docs disagree on the LINE channel literal (docs/capillary.md#subscriptions): on "invalid channel" try the other spelling once.
    if (errorCodes(response.body).includes(INVALID_CHANNEL)) {
      this.#subscriptionChannel = this.#subscriptionChannel === 'LINE' ? 'line' : 'LINE';
      response = await send();
    }
    this.#assertNoErrors('update-subscription', response);
  }

  #subscriptions(state: SubscriptionState) {
    return lineSubscriptions(this.config, this.lineAccountId, this.#subscriptionChannel, state);
  }

  async #addProfile(call: CallOptions, operation: string, profile: Record<string, unknown>, subscriptionInfo?: unknown):
    Promise<{ customerId: number | undefined; merged: boolean }> {
    const response = await this.http.request(operation, 'POST', '/v2/customers', {
      loyaltyInfo: { loyaltyType: 'non_loyalty' },
      profiles: [{ fields: {}, ...profile }],
      extendedFields: {},
      ...(subscriptionInfo ? { subscriptionInfo } : {}),
    }, call);
    // createdId decides success: the 8050 merge answer has been seen filed under HTTP 500.
    const createdId = response.body.createdId;
    if (typeof createdId === 'number') return { customerId: createdId, merged: warningCodes(response.body).includes(MERGED) };
    if (errorCodes(response.body).includes(ALREADY_EXISTS)) return { customerId: undefined, merged: false };
    throw apiErrorOf(operation, response);
  }

  async #lookup(call: CallOptions, source: string, identifierName: string, identifierValue: string): Promise<number | undefined> {
    const query = new URLSearchParams({ source, identifierName, identifierValue });
    if (source !== 'INSTORE') query.set('accountId', this.lineAccountId);
    const response = await this.http.request('lookup-customer', 'GET', `/v2/customers/lookup?${query}`, undefined, call);
    if (typeof response.body.entity === 'number') return response.body.entity;
    const codes = errorCodes(response.body);
    if (codes.some((code) => NOT_FOUND.has(code))) return undefined;
    // identifierName=line is undocumented (docs/capillary.md#lookup); an org that rejects it cannot be searched by LINE id.
    if (codes.includes(INVALID_IDENTIFIER_NAME)) throw new LookupUnsupportedError(identifierName, response.requestId);
    throw apiErrorOf('lookup-customer', response);
  }

  async #requireLookup(call: CallOptions, source: string, identifierName: string, identifierValue: string): Promise<number> {
    const customerId = await this.#lookup(call, source, identifierName, identifierValue);
    if (customerId === undefined) throw new CustomerNotResolvedError(`${source}/${identifierName}`);
    return customerId;
  }

  #assertNoErrors(operation: string, response: CapillaryResponse): void {
    if (errorCodes(response.body).length > 0 || response.status >= 400) throw apiErrorOf(operation, response);
  }
}
