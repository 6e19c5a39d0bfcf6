/**
 * Registers LINE followers in bulk: `POST /v2/integrations/customer/upsert/bulk` (docs/capillary.md#bulk-upsert),
 * one add-customer object per follower with the profiles of the registration mode (as a single registration
 * makes them) and the opt-in inline (`subscriptionInfo`). Used by the backfill and by the worker for a batch's
 * new followers. An upsert is safe to repeat: Capillary looks the customer up first and updates instead of adding again.
 */
import type { CapillaryConfig } from '../config/capillary-registration';
import { bulkCost, type BulkCountsAs } from '../domain/backfill-rules';
import { isRecord } from '../is-record';
import { lineSubscriptions, registrationProfiles } from './customer-calls';
import { errorCodes, type CapillaryMessage } from './envelope';
import { CapillaryUnavailableError } from './errors';
import type { CallOptions, CapillaryHttpClient } from './http-client';
import type { RateLimiter } from './rate-limiter';

/** Warning "Failed to update subscription for {channel} and priority {priority}" (docs/capillary.md#subscription-codes). */
const SUBSCRIPTION_FAILED = 91022;
/** Warning: the record was merged into a customer of another source (docs/capillary.md#merges). */
const MERGED = 8050;

export interface BulkRecordOutcome {
  userId: string;
  /** Capillary's customer id (`entityId`), also when the record is reported failed but partly applied */
  customerId?: number;
  /** no error for this record */
  ok: boolean;
  /** the inline opt-in was accepted (no 91022 warning) */
  subscribed: boolean;
  /** Capillary merged the record into an existing customer (8050) */
  merged: boolean;
  codes: number[];
  reason?: string;
}

interface BulkResponseItem {
  entityId?: unknown;
  errors?: CapillaryMessage[] | null;
  warnings?: CapillaryMessage[] | null;
}

export class LineBulkRegistrar {
  constructor(
    private readonly http: CapillaryHttpClient,
    private readonly config: CapillaryConfig,
    /** the channel's Source Account ID in Capillary */
    private readonly lineAccountId: string,
    private readonly limiter: RateLimiter,
    private readonly countsAs: BulkCountsAs,
  ) {}

  /** The customer object for one follower: the registration mode's profiles, as a single registration makes them. */
  recordFor(userId: string, displayName?: string): Record<string, unknown> {
    const { instore, line } = registrationProfiles(this.config, this.lineAccountId, userId, displayName);
    return {
      loyaltyInfo: { loyaltyType: 'non_loyalty' },
      profiles: (instore === undefined ? [line] : [instore, line]).map((profile) => ({ fields: {}, ...profile })),
      extendedFields: {},
      subscriptionInfo: {
        subscriptions: lineSubscriptions(this.config, this.lineAccountId, this.config.subscriptionChannel, 'OPTIN'),
      },
    };
  }

  /**
   * Takes the cost of one bulk call of `records` from the shared budget (1 or N tokens, CAPILLARY_BULK_COUNTS_AS),
   * before the records are claimed, so no claim waits on the budget. Throws CapillaryUnavailableError (0 attempts)
   * when there is none before the deadline.
   */
  async reserve(records: number, call: CallOptions): Promise<void> {
    if (!(await this.limiter.take(bulkCost(records, this.countsAs), call.deadlineAt))) {
      throw new CapillaryUnavailableError('bulk-upsert', 0, 'no Capillary budget left before the deadline');
    }
  }

  /**
   * One bulk call for these followers, with their LINE display names where known; one outcome per follower, in
   * order. Each attempt costs its tokens (CAPILLARY_BULK_COUNTS_AS) where the HTTP client's limiter takes them;
   * the backfill reserves them first instead. Throws CapillaryUnavailableError when Capillary stays unavailable:
   * a retry repeats the upsert safely.
   */
  async upsert(
    userIds: string[],
    call: CallOptions,
    displayNames: ReadonlyMap<string, string> = new Map(),
  ): Promise<BulkRecordOutcome[]> {
    const response = await this.http.request(
      'bulk-upsert',
      'POST',
      '/v2/integrations/customer/upsert/bulk?skipChangeIdentifier=false',
      userIds.map((userId) => this.recordFor(userId, displayNames.get(userId))),
      { ...call, cost: bulkCost(userIds.length, this.countsAs) },
    );
    const items = response.body.response;
    if (!Array.isArray(items) || items.length !== userIds.length) {
      const codes = errorCodes(response.body);
      const reason = Array.isArray(items)
        ? `answer has ${items.length} results for ${userIds.length} records`
        : `HTTP ${response.status}, no per-record results`;
      return userIds.map((userId) => ({ userId, ok: false, subscribed: false, merged: false, codes, reason }));
    }
    return userIds.map((userId, index) => outcomeOf(userId, items[index]));
  }
}

/** The messages of an errors[] / warnings[] list, whatever shape the answer has. */
const messagesOf = (list: unknown): CapillaryMessage[] =>
  (Array.isArray(list) ? list : []).map((entry) => (isRecord(entry) ? entry : {}) as unknown as CapillaryMessage);

function outcomeOf(userId: string, raw: unknown): BulkRecordOutcome {
  const item: BulkResponseItem = isRecord(raw)
    ? raw
    : { errors: [{ code: 0, message: 'the answer for this record is not an object' }] };
  const customerId =
    typeof item.entityId === 'number' && Number.isSafeInteger(item.entityId) ? item.entityId : undefined;
  const errors = messagesOf(item.errors);
  const codes = errors.map((error) => Number(error.code));
  const warnings = messagesOf(item.warnings).map((warning) => Number(warning.code));
  // A record can carry a result and an error at once (partly applied, counted failed): it is retried, never taken as done.
  const ok = customerId !== undefined && errors.length === 0;
  return {
    userId,
    ...(customerId === undefined ? {} : { customerId }),
    ok,
    subscribed: ok && !warnings.includes(SUBSCRIPTION_FAILED),
    merged: ok && warnings.includes(MERGED),
    codes,
    ...(ok
      ? {}
      : {
          reason:
            errors.map((error) => `${error.code}${error.message ? ` ${error.message}` : ''}`).join('; ') ||
            'no customer id in the answer',
        }),
  };
}
