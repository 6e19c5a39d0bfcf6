/**
 * The write probe's attach part, on the test customer with a made-up LINE id: a LINE add carrying the customer's
 * mobile and the opt-in (the `add-profile` link, and the opt-in folded into an add), `line` lookups of the id it
 * attached, and `changeIdentifier` with `line` (the `change-identifier` link) where the setting or the add's answer
 * calls for it. Each attach is taken off again and read back; a subscription goes back to its state before.
 */
import { lineCommChannel, SUBSCRIPTION_NOT_SET } from '../../lib/capillary/customer-calls';
import type { CapillaryConfig } from '../../lib/config/capillary-registration';
import type { AttachMethod } from '../../lib/domain/link-rules';
import { errorCodesOf } from './capillary-checks';
import { fail, pass, unknown, type CheckResult } from './check';
import { isAnswer, type ProbeOutcome } from './http-probe';
import {
  accepted,
  createdIdOf,
  describe,
  probeLineUserId,
  warningCodesOf,
  type Identifier,
  type ProbeSession,
  type SubscriptionType,
} from './probe-session';

export interface AttachProbeTarget {
  customerId: number;
  mobile: string;
  /** the subscription channel literal the org accepts (or the configured one) */
  literal: string;
  capillary: Pick<CapillaryConfig, 'subscribeOnRegister' | 'registerProfilesTogether' | 'registrationMode'>;
  attachMethod: AttachMethod;
}

const INVALID_IDENTIFIER_NAME = 8013;
const FOLDED = 'docs/capillary.md#folded-registration';
const ATTACH = 'docs/capillary.md#attach-line-to-a-member';

interface AttachVerdict {
  works: boolean;
  detail: string;
}

export async function probeAttach(session: ProbeSession, target: AttachProbeTarget): Promise<CheckResult[]> {
  const { area } = session;
  const profiles = await session.profiles(target.customerId);
  const holdsLineUser = profiles?.some(
    (profile) =>
      profile.source === 'LINE' &&
      profile.accountId === session.accountId &&
      (profile.identifiers ?? []).some(({ type }) => type === 'line'),
  );
  if (profiles === undefined || holdsLineUser) {
    const why =
      profiles === undefined
        ? 'the test customer cannot be read (GET /v2/customers/{id})'
        : `the test customer holds a LINE user of account ${session.accountId} already`;
    const fix = 'name a test customer whose profiles can be read and who holds no LINE user of this account';
    return ['opt-in inside the add', 'link method', '`line` lookups'].map((check) =>
      unknown(area, check, `not probed: ${why}`, fix),
    );
  }
  const lineAdd = await probeLineAdd(session, target);
  const addProfile: AttachVerdict = {
    works: lineAdd.customerId === target.customerId,
    detail:
      lineAdd.customerId === undefined
        ? `a LINE add with the member's mobile was refused (${describe(lineAdd.answer)})`
        : lineAdd.customerId === target.customerId
          ? `a LINE add with the member's mobile merged into the test customer (${lineAdd.undone})`
          : `a LINE add with the member's mobile made customer ${lineAdd.customerId}, not a merge into the test customer (${lineAdd.undone}; the customer stays: Capillary cannot remove one)`,
  };
  const changeIdentifier =
    target.attachMethod === 'change-identifier' || !addProfile.works
      ? await probeChangeIdentifier(session, target.customerId)
      : undefined;
  return [
    lineAdd.optIn,
    profilesTogether(area, target.capillary.registerProfilesTogether),
    linkMethod(area, target.attachMethod, { 'add-profile': addProfile, 'change-identifier': changeIdentifier }),
    lineAdd.lookup,
  ];
}

/** The LINE add with the opt-in folded in; refused, the same add without it, to tell which part was refused. */
async function probeLineAdd(session: ProbeSession, target: AttachProbeTarget) {
  const { area } = session;
  const lineUserId = probeLineUserId();
  const identifiers: Identifier[] = [
    { type: 'line', value: lineUserId },
    { type: 'mobile', value: target.mobile },
  ];
  const add = (optIn: boolean) =>
    session.post('/v2/customers', {
      loyaltyInfo: { loyaltyType: 'non_loyalty' },
      profiles: [
        {
          fields: {},
          identifiers,
          commChannels: [lineCommChannel(lineUserId)],
          source: 'LINE',
          accountId: session.accountId,
        },
      ],
      extendedFields: {},
      ...(optIn ? { subscriptionInfo: { subscriptions: session.subscriptions(target.literal, 'OPTIN') } } : {}),
    });
  const before = await session.lineState(target.customerId);
  // Opted out first, so that an opt-in the add applies shows.
  if (before === 'OPTIN') await session.setLineState(target.customerId, target.literal, 'OPTOUT');
  let answer = await add(true);
  let optInRefused: string | undefined;
  if (createdIdOf(answer) === undefined) {
    const plain = await add(false);
    if (createdIdOf(plain) !== undefined) {
      optInRefused = `the add was refused with it (${describe(answer)}) and made without it`;
      answer = plain;
    }
  } else if (warningCodesOf(answer).includes(SUBSCRIPTION_NOT_SET))
    optInRefused = `the add answered warning ${SUBSCRIPTION_NOT_SET} (subscription not set)`;
  const customerId = createdIdOf(answer);
  if (customerId === undefined) {
    if (before === 'OPTIN') await session.setLineState(target.customerId, target.literal, 'OPTIN');
    const notProbed = `not probed: the LINE add was refused (${describe(answer)})`;
    return {
      customerId,
      answer,
      undone: '',
      optIn: unknown(area, 'opt-in inside the add', notProbed),
      lookup: unknown(area, '`line` lookups', notProbed),
    };
  }
  const lookup = lineLookup(area, target, customerId, await lineLookupOf(session, lineUserId));
  const after = await session.lineState(customerId);
  const undone = await session.undoAttach(customerId, identifiers);
  const restored = await restoreSubscriptions(session, target, { customerId, before, after });
  const optIn = optInVerdict(area, target.capillary.subscribeOnRegister, { optInRefused, after, restored });
  return { customerId, answer, undone, optIn, lookup };
}

/**
 * The test customer's LINE subscription back to its state before the add (OPTOUT when it had none and the add opted
 * it in: Capillary cannot remove one), and a customer the add made opted out again. Says what it did, if anything.
 */
async function restoreSubscriptions(
  session: ProbeSession,
  target: AttachProbeTarget,
  { customerId, before, after }: { customerId: number; before?: SubscriptionType; after?: SubscriptionType },
): Promise<string> {
  if (customerId !== target.customerId && after === 'OPTIN')
    await session.setLineState(customerId, target.literal, 'OPTOUT');
  const restoredTo: SubscriptionType = before ?? 'OPTOUT';
  const now = customerId === target.customerId ? after : before === 'OPTIN' ? 'OPTOUT' : before;
  if (now === undefined || now === restoredTo) return '';
  const answer = await session.setLineState(target.customerId, target.literal, restoredTo);
  return accepted(answer)
    ? `; the test customer's LINE subscription is back to ${restoredTo}${before === undefined ? ' (it had none)' : ''}`
    : `; the test customer's LINE subscription is NOT back to ${restoredTo} (${describe(answer)}): set it by hand`;
}

function optInVerdict(
  area: string,
  configured: boolean,
  outcome: { optInRefused?: string; after?: SubscriptionType; restored: string },
): CheckResult {
  const check = 'opt-in inside the add';
  const { restored } = outcome;
  if (outcome.optInRefused !== undefined)
    return configured
      ? fail(
          area,
          check,
          `the org refuses it: ${outcome.optInRefused}${restored}`,
          `set capillarySubscribeOnRegister=false: one call per new follower less wasted (${FOLDED})`,
        )
      : pass(
          area,
          check,
          `the org refuses it (${outcome.optInRefused}): capillarySubscribeOnRegister=false (as set)${restored}`,
        );
  if (outcome.after !== 'OPTIN')
    return fail(
      area,
      check,
      `the add was accepted, but the LINE subscription reads ${outcome.after ?? 'none'}: the org ignores it silently${restored}`,
      configured
        ? `set capillarySubscribeOnRegister=false: the worker cannot tell a silent ignore (${FOLDED})`
        : 'keep capillarySubscribeOnRegister=false',
    );
  return configured
    ? pass(area, check, `applied (read back OPTIN): capillarySubscribeOnRegister=true (as set)${restored}`)
    : fail(
        area,
        check,
        `applied (read back OPTIN), but capillarySubscribeOnRegister=false${restored}`,
        'set capillarySubscribeOnRegister=true: one call per new follower saved',
      );
}

/** Both profiles in one add: not probed, since it would make a customer, which Capillary cannot remove again. */
function profilesTogether(area: string, configured: boolean): CheckResult {
  return unknown(
    area,
    'both profiles in one add',
    `not probed: it would make a customer, which Capillary cannot remove; capillaryRegisterProfilesTogether=${configured} ${
      configured
        ? 'tries it and falls back to two calls where refused (FoldedFormRefused in the worker log)'
        : 'makes two calls (the documented way)'
    }`,
  );
}

async function probeChangeIdentifier(session: ProbeSession, customerId: number): Promise<AttachVerdict> {
  const identifiers = [{ type: 'line', value: probeLineUserId() }];
  const added = await session.changeIdentifiers(customerId, 'add', identifiers);
  const held = accepted(added) ? await session.holdsLineUser(customerId, identifiers[0]?.value as string) : false;
  if (!held) {
    const undone = accepted(added) ? ` (${await session.undoAttach(customerId, identifiers)})` : '';
    return {
      works: false,
      detail: `changeIdentifier add line ${accepted(added) ? 'answered without error, but the customer does not hold the id' : `was refused (${describe(added)})`}${undone}`,
    };
  }
  return {
    works: true,
    detail: `changeIdentifier add line attached the id (${await session.undoAttach(customerId, identifiers)})`,
  };
}

function linkMethod(
  area: string,
  configured: AttachMethod,
  verdicts: Record<AttachMethod, AttachVerdict | undefined>,
): CheckResult {
  const check = 'link method';
  const mine = verdicts[configured] as AttachVerdict;
  const otherMethod: AttachMethod = configured === 'add-profile' ? 'change-identifier' : 'add-profile';
  const other = verdicts[otherMethod];
  const seen = [mine.detail, ...(other === undefined ? [`${otherMethod} not probed`] : [other.detail])].join('; ');
  if (mine.works) return pass(area, check, `capillaryLinkMethod=${configured} (as set) works: ${seen}`);
  if (other?.works)
    return fail(area, check, `${configured} does not attach: ${seen}`, `set capillaryLinkMethod=${otherMethod}`);
  return fail(
    area,
    check,
    `neither method attaches: ${seen}`,
    `ask Capillary how the org attaches a LINE profile to a member (${ATTACH}); keep linking off until then`,
  );
}

function lineLookupOf(session: ProbeSession, lineUserId: string): Promise<ProbeOutcome> {
  const query = new URLSearchParams({
    source: 'LINE',
    accountId: session.accountId,
    identifierName: 'line',
    identifierValue: lineUserId,
  });
  return session.get(`/v2/customers/lookup?${query}`);
}

function lineLookup(area: string, target: AttachProbeTarget, customerId: number, answer: ProbeOutcome): CheckResult {
  const check = '`line` lookups';
  const lineOnly = target.capillary.registrationMode === 'line-only';
  const entity = isAnswer(answer) ? (answer.body as { entity?: unknown } | undefined)?.entity : undefined;
  if (entity === customerId)
    return pass(area, check, 'accepted: looking up the LINE id just attached finds its customer');
  if (isAnswer(answer) && errorCodesOf(answer.body).includes(INVALID_IDENTIFIER_NAME))
    return lineOnly
      ? fail(
          area,
          check,
          `refused (${INVALID_IDENTIFIER_NAME}): in line-only mode a retried registration cannot find its customer`,
          'set capillaryRegistrationMode=instore+line: it finds LINE users by externalId (docs/capillary.md#lookup)',
        )
      : pass(
          area,
          check,
          `refused (${INVALID_IDENTIFIER_NAME}): nothing to set, instore+line mode looks up by externalId`,
        );
  return unknown(
    area,
    check,
    `the lookup of the LINE id just attached answered ${describe(answer)}, not customer ${customerId}`,
  );
}
