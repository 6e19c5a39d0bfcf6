import type { CapillaryConfig } from '../config/capillary-registration';
import type { SubscriptionState } from '../domain/sync-rules';
import {
  addCustomer,
  externalIdOf,
  lineSubscriptions,
  lookupCustomer,
  registrationProfiles,
  requireCustomer,
  SUBSCRIPTION_NOT_SET,
  type AddOutcome,
  type Profile,
} from './customer-calls';
import { apiErrorOf, errorCodes, goneCodesOf, type CapillaryResponse } from './envelope';
import { CustomerGoneError, LookupUnsupportedError } from './errors';
import { FoldedFormRefusals } from './folded-forms';
import type { CallOptions, CapillaryHttpClient } from './http-client';

const INVALID_CHANNEL = 1101; // "Invalid channel" (docs/capillary.md#codes)

export interface Registration {
  customerId: number;
  /** true when the LINE opt-in travelled inside the add-customer call and was accepted */
  subscribed: boolean;
  merged: boolean;
}

/** What the worker asks of a channel's customers; the batch layer may put a bulk registration in front (lib/worker/bulk). */
export interface CustomerDirectory {
  readonly defersRegistration: boolean;
  register(lineUserId: string, displayName: string | undefined, call: CallOptions): Promise<Registration>;
  /**
   * The customer carrying this account's LINE profile of the user, if Capillary has one; undefined also when this org
   * cannot be searched by LINE id, so an unfollow is still recorded rather than retried forever. Never the person's
   * customer found through the INSTORE externalId: after a link that one carries no LINE profile of this account.
   */
  findProfileHolder(lineUserId: string, call: CallOptions): Promise<number | undefined>;
  setSubscription(customerId: number, state: SubscriptionState, call: CallOptions): Promise<void>;
  /** The INSTORE externalId a registration gives the user (instore+line): a merge can carry it to another customer. */
  externalIdFor(lineUserId: string): string;
}

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
export class LineCustomerDirectory implements CustomerDirectory {
  #subscriptionChannel: string;
  readonly #refused = new FoldedFormRefusals();

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
    return externalIdOf(this.config, lineUserId);
  }

  async register(lineUserId: string, displayName: string | undefined, call: CallOptions): Promise<Registration> {
    const { instore: instoreProfile, line: lineProfile } = registrationProfiles(
      this.config,
      this.lineAccountId,
      lineUserId,
      displayName,
    );
    if (instoreProfile === undefined) {
      const line = await this.#addWithOptIn(call, 'add-customer-line', [lineProfile]);
      return this.#registered(line, () => this.#requireLookup(call, 'LINE', 'line', lineUserId));
    }
    const externalId = this.externalIdFor(lineUserId);
    let together: AddOutcome | undefined;
    if (this.config.registerProfilesTogether && !this.#refused.has('profiles-together')) {
      together = await this.#addWithOptIn(call, 'add-customer-instore+line', [instoreProfile, lineProfile]);
      if (together.outcome === 'created')
        return { customerId: together.customerId, subscribed: together.subscribed, merged: together.merged };
      // 8006 (a profile exists) or refused: the separate calls find out which and finish the job.
    }
    const instore = this.#settled(await this.#add(call, 'add-customer-instore', [instoreProfile]));
    const instoreCustomerId =
      instore.outcome === 'created'
        ? instore.customerId
        : await this.#requireLookup(call, 'INSTORE', 'externalId', externalId);
    const line = await this.#addWithOptIn(call, 'add-customer-line', [lineProfile]);
    // 8006: this account's LINE profile exists, on the INSTORE customer or wherever a link moved it (a member).
    const registration = await this.#registered(
      line,
      async () => (await this.findProfileHolder(lineUserId, call)) ?? instoreCustomerId,
    );
    // The separate calls worked where the single one failed: this org does not take both profiles at once.
    if (together?.outcome === 'failed') this.#refused.refuse('profiles-together', together.error);
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
    if (plain.outcome !== 'failed') this.#refused.refuse('opt-in-on-add', folded.error);
    return plain;
  }

  /** The LINE-source lookups alone: they are scoped to this account. A backfilled customer has the externalId. */
  async findProfileHolder(lineUserId: string, call: CallOptions): Promise<number | undefined> {
    try {
      if (this.config.registrationMode === 'line-only') return await this.#lookup(call, 'LINE', 'line', lineUserId);
      return (
        (await this.#lookup(call, 'LINE', 'externalId', this.externalIdFor(lineUserId))) ??
        (await this.#lookup(call, 'LINE', 'line', lineUserId))
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
    const gone = goneCodesOf(response.body);
    if (gone.length > 0) throw new CustomerGoneError('update-subscription', customerId, gone);
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
    const added = await addCustomer(this.http, call, operation, profiles, subscriptionInfo);
    if (added.outcome === 'created' && added.optInNotSet)
      this.#refused.refuse('opt-in-on-add', `warning ${SUBSCRIPTION_NOT_SET} on ${operation}`);
    return added;
  }

  #lookup(
    call: CallOptions,
    source: string,
    identifierName: string,
    identifierValue: string,
  ): Promise<number | undefined> {
    return lookupCustomer(this.http, this.lineAccountId, { source, identifierName, identifierValue }, call);
  }

  #requireLookup(call: CallOptions, source: string, identifierName: string, identifierValue: string): Promise<number> {
    return requireCustomer(this.http, this.lineAccountId, { source, identifierName, identifierValue }, call);
  }

  #assertNoErrors(operation: string, response: CapillaryResponse): void {
    if (errorCodes(response.body).length > 0 || response.status >= 400) throw apiErrorOf(operation, response);
  }
}
