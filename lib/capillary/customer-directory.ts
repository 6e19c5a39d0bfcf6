import type { CapillaryConfig } from '../config/config';
import type { SubscriptionState } from '../domain/sync-rules';
import { logger, metrics, MetricUnit } from '../observability/telemetry';
import { apiErrorOf, errorCodes, warningCodes, type CapillaryResponse } from './envelope';
import { CustomerNotResolvedError, LookupUnsupportedError, type CapillaryApiError } from './errors';
import type { CallOptions, CapillaryHttpClient } from './http-client';

/** Codes from docs/capillary.md#codes. */
const ALREADY_EXISTS = 8006;
const MERGED = 8050;
/** Warning on a successful add: a subscription in `subscriptionInfo` could not be set. */
const SUBSCRIPTION_NOT_SET = 91022;
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
export function lineSubscriptions(
  config: Pick<CapillaryConfig, 'orgUnitId'>,
  lineAccountId: string,
  channel: string,
  state: SubscriptionState,
) {
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

/** A form of add customer that folds two calls into one (docs/capillary.md#folded-registration). */
export type FoldedForm = 'opt-in-on-add' | 'profiles-together';

type AddOutcome =
  | { outcome: 'created'; customerId: number; merged: boolean; subscribed: boolean }
  /** 8006: a profile exists already (a retry after a lost response, or registered elsewhere) */
  | { outcome: 'exists'; subscribed: false }
  | { outcome: 'failed'; error: CapillaryApiError };

type Profile = Record<string, unknown>;

/**
 * The Capillary side of a LINE follower: register (INSTORE + LINE profile, or LINE only), find,
 * and set the LINE subscription. Every call is safe to repeat: an add that already happened
 * answers 8006 and is resolved by a lookup; subscriptions are absolute states.
 *
 * Registration folds calls where the settings allow: the opt-in inside the add (`subscriptionInfo`) and,
 * in instore+line mode, both profiles in one add. An org that refuses a folded form (an error, or the
 * 91022 warning) gets the separate calls instead, and this directory remembers the refusal for the
 * container's lifetime, so correctness never depends on the folded forms.
 */
export class LineCustomerDirectory {
  #subscriptionChannel: string;
  readonly #refused = new Set<FoldedForm>();

  /** @param lineAccountId the channel's Source Account ID: on every LINE profile, lookup and subscription */
  constructor(
    private readonly http: CapillaryHttpClient,
    private readonly config: CapillaryConfig,
    private readonly lineAccountId: string,
  ) {
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
    const externalId = { type: 'externalId', value: this.externalIdFor(lineUserId) };
    const lineProfile = (identifiers: { type: string; value: string }[]): Profile => ({
      ...names,
      identifiers: [{ type: 'line', value: lineUserId }, ...identifiers],
      commChannels: [{ type: 'line', value: lineUserId, primary: true, verified: true, meta: { residence: true } }],
      source: 'LINE',
      accountId: this.lineAccountId,
    });
    if (this.config.registrationMode === 'line-only') {
      const line = await this.#addWithOptIn(call, 'add-customer-line', [lineProfile([])]);
      return this.#registered(line, () => this.#requireLookup(call, 'LINE', 'line', lineUserId));
    }
    // Capillary's LINE guide: an unknown user gets an INSTORE profile and a LINE profile on one
    // customer. A follow carries no phone number, so both profiles share an externalId to merge on.
    const instoreProfile: Profile = { ...names, identifiers: [externalId], source: 'INSTORE', accountId: '' };
    let together: AddOutcome | undefined;
    if (this.config.registerProfilesTogether && !this.#refused.has('profiles-together')) {
      together = await this.#addWithOptIn(call, 'add-customer-instore+line', [
        instoreProfile,
        lineProfile([externalId]),
      ]);
      if (together.outcome === 'created')
        return { customerId: together.customerId, subscribed: together.subscribed, merged: together.merged };
      // 8006 (a profile exists) or refused: the separate calls find out which and finish the job.
    }
    const instore = this.#settled(await this.#add(call, 'add-customer-instore', [instoreProfile]));
    const instoreCustomerId =
      instore.outcome === 'created'
        ? instore.customerId
        : await this.#requireLookup(call, 'INSTORE', 'externalId', externalId.value);
    const line = await this.#addWithOptIn(call, 'add-customer-line', [lineProfile([externalId])]);
    const registration = await this.#registered(line, async () => instoreCustomerId);
    // The separate calls worked where the single one failed: this org does not take both profiles at once.
    if (together?.outcome === 'failed') this.#refuse('profiles-together', together.error);
    return registration;
  }

  /** A LINE add that answered: the customer it made, or (8006) the one `existing` finds. */
  async #registered(line: AddOutcome, existing: () => Promise<number>): Promise<Registration> {
    const added = this.#settled(line);
    if (added.outcome === 'created')
      return { customerId: added.customerId, subscribed: added.subscribed, merged: added.merged };
    return { customerId: await existing(), subscribed: false, merged: false };
  }

  #settled(outcome: AddOutcome): Exclude<AddOutcome, { outcome: 'failed' }> {
    if (outcome.outcome === 'failed') throw outcome.error;
    return outcome;
  }

  /** Add customer with the LINE opt-in inside when configured and not refused; refused, the same add without it. */
  async #addWithOptIn(call: CallOptions, operation: string, profiles: Profile[]): Promise<AddOutcome> {
    if (!this.config.subscribeOnRegister || this.#refused.has('opt-in-on-add'))
      return this.#add(call, operation, profiles);
    const folded = await this.#add(call, operation, profiles, { subscriptions: this.#subscriptions('OPTIN') });
    if (folded.outcome !== 'failed') return folded;
    const plain = await this.#add(call, operation, profiles);
    if (plain.outcome !== 'failed') this.#refuse('opt-in-on-add', folded.error);
    return plain;
  }

  #refuse(form: FoldedForm, cause: CapillaryApiError | string): void {
    // Records of one batch may all have tried the form before the first refusal came back: say it once.
    if (this.#refused.has(form)) return;
    this.#refused.add(form);
    const detail = typeof cause === 'string' ? cause : cause.message;
    logger.warn(`Capillary refused the folded form ${form}; this container makes the separate calls from now on`, {
      form,
      detail,
    });
    metrics.addMetric('FoldedFormRefused', MetricUnit.Count, 1);
  }

  /**
   * The customer holding this LINE user, if Capillary has one; undefined also when this org cannot be
   * searched by LINE id, so an unfollow is still recorded rather than retried forever.
   */
  async find(lineUserId: string, call: CallOptions): Promise<number | undefined> {
    try {
      if (this.config.registrationMode === 'line-only') return await this.#lookup(call, 'LINE', 'line', lineUserId);
      // A customer the backfill registered has only the LINE profile, which carries the same externalId.
      return (
        (await this.#lookup(call, 'INSTORE', 'externalId', this.externalIdFor(lineUserId))) ??
        (await this.#lookup(call, 'LINE', 'externalId', this.externalIdFor(lineUserId)))
      );
    } catch (error) {
      if (error instanceof LookupUnsupportedError) return undefined;
      throw error;
    }
  }

  async setSubscription(customerId: number, state: SubscriptionState, call: CallOptions): Promise<void> {
    const send = () =>
      this.http.request(
        'update-subscription',
        'POST',
        `/v2/customers/${customerId}/subscriptions`,
        {
          communicationId: -1,
          campaignId: -1,
          reason: state === 'OPTIN' ? 'LINE follow event' : 'LINE unfollow event',
          scope: { scope: 'USER', subScope: 'NONE' },
          subscriptions: this.#subscriptions(state),
        },
        call,
      );
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

  async #add(
    call: CallOptions,
    operation: string,
    profiles: Profile[],
    subscriptionInfo?: unknown,
  ): Promise<AddOutcome> {
    const response = await this.http.request(
      operation,
      'POST',
      '/v2/customers',
      {
        loyaltyInfo: { loyaltyType: 'non_loyalty' },
        profiles: profiles.map((profile) => ({ fields: {}, ...profile })),
        extendedFields: {},
        ...(subscriptionInfo ? { subscriptionInfo } : {}),
      },
      call,
    );
    // createdId decides success: the 8050 merge answer has been seen filed under HTTP 500.
    const createdId = response.body.createdId;
    if (typeof createdId === 'number') {
      const warnings = warningCodes(response.body);
      const optInNotSet = subscriptionInfo !== undefined && warnings.includes(SUBSCRIPTION_NOT_SET);
      if (optInNotSet) this.#refuse('opt-in-on-add', `warning ${SUBSCRIPTION_NOT_SET} on ${operation}`);
      return {
        outcome: 'created',
        customerId: createdId,
        merged: warnings.includes(MERGED),
        subscribed: subscriptionInfo !== undefined && !optInNotSet,
      };
    }
    if (errorCodes(response.body).includes(ALREADY_EXISTS)) return { outcome: 'exists', subscribed: false };
    return { outcome: 'failed', error: apiErrorOf(operation, response) };
  }

  async #lookup(
    call: CallOptions,
    source: string,
    identifierName: string,
    identifierValue: string,
  ): Promise<number | undefined> {
    const query = new URLSearchParams({ source, identifierName, identifierValue });
    if (source !== 'INSTORE') query.set('accountId', this.lineAccountId);
    const response = await this.http.request(
      'lookup-customer',
      'GET',
      `/v2/customers/lookup?${query}`,
      undefined,
      call,
    );
    if (typeof response.body.entity === 'number') return response.body.entity;
    const codes = errorCodes(response.body);
    if (codes.some((code) => NOT_FOUND.has(code))) return undefined;
    // identifierName=line is undocumented (docs/capillary.md#lookup); an org that rejects it cannot be searched by LINE id.
    if (codes.includes(INVALID_IDENTIFIER_NAME)) throw new LookupUnsupportedError(identifierName, response.requestId);
    throw apiErrorOf('lookup-customer', response);
  }

  async #requireLookup(
    call: CallOptions,
    source: string,
    identifierName: string,
    identifierValue: string,
  ): Promise<number> {
    const customerId = await this.#lookup(call, source, identifierName, identifierValue);
    if (customerId === undefined) throw new CustomerNotResolvedError(`${source}/${identifierName}`);
    return customerId;
  }

  #assertNoErrors(operation: string, response: CapillaryResponse): void {
    if (errorCodes(response.body).length > 0 || response.status >= 400) throw apiErrorOf(operation, response);
  }
}
