/**
 * `npm run doctor -- --write-probe <mobile>`: on a test customer the operator names, finds out what the org accepts
 * where Capillary's docs leave it Unconfirmed (docs/capillary.md), and prints it as the settings to use. Each write is
 * undone where Capillary allows: a subscription goes back to its state before the probe (or OPTOUT, when it had none:
 * Capillary cannot remove one). Registrations and links are not probed: a customer or profile cannot be removed again.
 */
import type { CapillaryOrgConfig } from '../../lib/config/capillary-orgs';
import { errorCodesOf } from './capillary-checks';
import { fail, pass, unknown, type CheckResult } from './check';
import { field, isAnswer, probe, type ProbeOutcome } from './http-probe';

export interface WriteProbeTarget {
  org: CapillaryOrgConfig;
  /** the channel whose Source Account ID the probes use */
  channel: { id: string; capillaryLineAccountId: string };
  /** capillarySubscriptionChannel as configured; tried first */
  subscriptionChannel: string;
  orgUnitId?: number;
  mobile: string;
  headers: Record<string, string>;
}

const CHANNEL_LITERALS = ['LINE', 'line', 'Line'];
const INVALID_IDENTIFIER_NAME = 8013;
/** A well-formed LINE user id no one has. */
const NOBODY = `U${'0'.repeat(32)}`;

type SubscriptionType = 'OPTIN' | 'OPTOUT';

export async function probeWrites(target: WriteProbeTarget): Promise<CheckResult[]> {
  const area = `Capillary ${target.org.id}`;
  const { org, headers, channel } = target;
  const call = (path: string, init: RequestInit = {}) =>
    probe(`${org.baseUrl}${path}`, { ...init, headers: { ...headers, 'content-type': 'application/json' } });

  const found = await call(
    `/v2/customers/lookup?${new URLSearchParams({ source: 'INSTORE', identifierName: 'mobile', identifierValue: target.mobile })}`,
  );
  const customerId = isAnswer(found) ? field(found.body, 'entity') : undefined;
  if (customerId === undefined)
    return [
      fail(
        area,
        'test customer',
        `no customer has mobile ${target.mobile} (${describe(found)})`,
        'register a test customer with that mobile in Capillary, then run the probe again',
      ),
    ];
  const lineLookup = await call(
    `/v2/customers/lookup?${new URLSearchParams({ source: 'LINE', accountId: channel.capillaryLineAccountId, identifierName: 'line', identifierValue: NOBODY })}`,
  );
  return [
    pass(area, 'test customer', `customer ${customerId}`),
    await probeSubscriptionChannel(area, target, customerId, call),
    isAnswer(lineLookup) && errorCodesOf(lineLookup.body).includes(INVALID_IDENTIFIER_NAME)
      ? pass(
          area,
          '`line` lookups',
          'refused (8013): the worker finds LINE users by externalId instead; nothing to set',
        )
      : pass(area, '`line` lookups', `accepted (${describe(lineLookup)}): nothing to set`),
    unknown(
      area,
      'folded registration forms, link method',
      'not probed: a customer or a profile added by a probe cannot be removed again',
      'follow a test channel once and read the worker log: it names the form the org refused (docs/capillary.md#folded-registration)',
    ),
  ];
}

async function probeSubscriptionChannel(
  area: string,
  target: WriteProbeTarget,
  customerId: string,
  call: (path: string, init?: RequestInit) => Promise<ProbeOutcome>,
): Promise<CheckResult> {
  const check = 'subscription channel';
  const path = `/v2/customers/${customerId}/subscriptions`;
  const before = await call(path);
  const prior = isAnswer(before) ? lineStateOf(before.body, target.channel.capillaryLineAccountId) : undefined;
  const set = (literal: string, type: SubscriptionType) =>
    call(path, {
      method: 'POST',
      body: JSON.stringify({
        communicationId: -1,
        campaignId: -1,
        reason: 'line-capillary-bridge doctor probe',
        scope: { scope: 'USER', subScope: 'NONE' },
        subscriptions: (['BULK', 'TRANS'] as const).map((priority) => ({
          channel: literal,
          priority,
          type,
          accountId: target.channel.capillaryLineAccountId,
          sourceName: 'LINE',
          ...(target.orgUnitId === undefined ? {} : { orgUnitId: target.orgUnitId }),
        })),
      }),
    });
  const candidates = [...new Set([target.subscriptionChannel, ...CHANNEL_LITERALS])];
  for (const literal of candidates) {
    const answer = await set(literal, 'OPTIN');
    if (!isAnswer(answer) || answer.status >= 400 || errorCodesOf(answer.body).length > 0) continue;
    const restored = await set(literal, prior ?? 'OPTOUT');
    const undo = prior === undefined ? 'left OPTOUT (it had none; Capillary cannot remove one)' : `back to ${prior}`;
    const undone =
      isAnswer(restored) && restored.status < 400 ? undo : `NOT restored (${describe(restored)}): set it back by hand`;
    const setting = `capillarySubscriptionChannel=${literal}`;
    return literal === target.subscriptionChannel
      ? pass(
          area,
          check,
          `the org accepts "${literal}": ${setting} (as set); the test customer's LINE subscription is ${undone}`,
        )
      : fail(
          area,
          check,
          `the org refuses "${target.subscriptionChannel}" and accepts "${literal}"; the test customer's subscription is ${undone}`,
          `set ${setting}`,
        );
  }
  return fail(
    area,
    check,
    `the org accepts none of ${candidates.join(', ')} as the LINE subscription channel`,
    'ask Capillary to enable LINE as a subscription channel for the org (docs/capillary.md#subscriptions)',
  );
}

/** OPTIN / OPTOUT of the channel's LINE subscription (BULK), undefined when it has none. */
function lineStateOf(body: unknown, accountId: string): SubscriptionType | undefined {
  const entries = (body as { subscriptions?: Record<string, unknown>[] } | undefined)?.subscriptions ?? [];
  const entry = entries.find(
    (item) =>
      String(item.channel).toUpperCase() === 'LINE' && String(item.accountId) === accountId && item.priority === 'BULK',
  );
  return entry?.type === 'OPTIN' || entry?.type === 'OPTOUT' ? entry.type : undefined;
}

function describe(outcome: ProbeOutcome): string {
  if (!isAnswer(outcome)) return `no answer: ${outcome.unreachable}`;
  const codes = errorCodesOf(outcome.body);
  return `HTTP ${outcome.status}${codes.length > 0 ? `, codes ${codes.join(', ')}` : ''}`;
}
