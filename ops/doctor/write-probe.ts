/**
 * `npm run doctor -- --write-probe <mobile>`: on a test customer the operator names, finds out what the org accepts
 * where Capillary's docs leave it Unconfirmed (docs/capillary.md#unconfirmed), and prints it as the settings to use:
 * the subscription channel literal here, the opt-in folded into an add, the link method and `line` lookups in
 * attach-probe.ts. Each write is undone where Capillary allows: a subscription goes back to its state before the probe
 * (or OPTOUT, when it had none: Capillary cannot remove one), an attached LINE id is taken off again. Both profiles in
 * one add are not probed: that makes a customer, which cannot be removed.
 */
import type { CapillaryOrgConfig } from '../../lib/config/capillary-orgs';
import type { CapillaryConfig } from '../../lib/config/capillary-registration';
import type { AttachMethod } from '../../lib/domain/link-rules';
import { probeAttach } from './attach-probe';
import { fail, pass, type CheckResult } from './check';
import { field, isAnswer } from './http-probe';
import { accepted, describe, ProbeSession } from './probe-session';

export interface WriteProbeTarget {
  org: CapillaryOrgConfig;
  /** the channel whose Source Account ID the probes use */
  channel: { id: string; capillaryLineAccountId: string };
  /** the registration settings as configured: capillarySubscriptionChannel is tried first */
  capillary: Pick<
    CapillaryConfig,
    'subscriptionChannel' | 'orgUnitId' | 'subscribeOnRegister' | 'registerProfilesTogether' | 'registrationMode'
  >;
  attachMethod: AttachMethod;
  mobile: string;
  headers: Record<string, string>;
}

const CHANNEL_LITERALS = ['LINE', 'line', 'Line'];

export async function probeWrites(target: WriteProbeTarget): Promise<CheckResult[]> {
  const { org, channel, capillary } = target;
  const session = new ProbeSession(
    `Capillary ${org.id}`,
    org,
    target.headers,
    channel.capillaryLineAccountId,
    capillary,
  );
  const { area } = session;
  const found = await session.get(
    `/v2/customers/lookup?${new URLSearchParams({ source: 'INSTORE', identifierName: 'mobile', identifierValue: target.mobile })}`,
  );
  const customerId = Number(isAnswer(found) ? field(found.body, 'entity') : undefined);
  if (!Number.isInteger(customerId))
    return [
      fail(
        area,
        'test customer',
        `no customer has mobile ${target.mobile} (${describe(found)})`,
        'register a test customer with that mobile in Capillary, then run the probe again',
      ),
    ];
  const subscription = await probeSubscriptionChannel(session, capillary.subscriptionChannel, customerId);
  return [
    pass(area, 'test customer', `customer ${customerId}`),
    subscription.result,
    ...(await probeAttach(session, {
      customerId,
      mobile: target.mobile,
      literal: subscription.literal ?? capillary.subscriptionChannel,
      capillary,
      attachMethod: target.attachMethod,
    })),
  ];
}

/** The first literal the org accepts, the configured one first; the test customer's subscription set back after. */
async function probeSubscriptionChannel(
  session: ProbeSession,
  configured: string,
  customerId: number,
): Promise<{ result: CheckResult; literal?: string }> {
  const { area } = session;
  const check = 'subscription channel';
  const prior = await session.lineState(customerId);
  const candidates = [...new Set([configured, ...CHANNEL_LITERALS])];
  for (const literal of candidates) {
    if (!accepted(await session.setLineState(customerId, literal, 'OPTIN'))) continue;
    const restored = await session.setLineState(customerId, literal, prior ?? 'OPTOUT');
    const undo = prior === undefined ? 'left OPTOUT (it had none; Capillary cannot remove one)' : `back to ${prior}`;
    const undone = accepted(restored) ? undo : `NOT restored (${describe(restored)}): set it back by hand`;
    const setting = `capillarySubscriptionChannel=${literal}`;
    const result =
      literal === configured
        ? pass(
            area,
            check,
            `the org accepts "${literal}": ${setting} (as set); the test customer's LINE subscription is ${undone}`,
          )
        : fail(
            area,
            check,
            `the org refuses "${configured}" and accepts "${literal}"; the test customer's subscription is ${undone}`,
            `set ${setting}`,
          );
    return { result, literal };
  }
  return {
    result: fail(
      area,
      check,
      `the org accepts none of ${candidates.join(', ')} as the LINE subscription channel`,
      'ask Capillary to enable LINE as a subscription channel for the org (docs/capillary.md#subscriptions)',
    ),
  };
}
