/**
 * Figure 4: what one event costs in calls to Capillary, LINE and DynamoDB, per kind of event, through
 * the real batch processor against the stand-ins and dynalite (the worker test harness). Each case is
 * a batch of distinct users; the outcome of every event is checked, so a case cannot silently measure
 * a different path.
 */
import type { CapillaryConfig } from '../lib/config/capillary-registration';
import type { LineWebhookEvent } from '../lib/line/callback';
import type { RecordSettled } from '../lib/worker/handle-queued-event';
import { followEvent, lineUserId, unfollowEvent } from '../local/line-event-factory';
import { startWorkerHarness, type WorkerHarness } from '../local/rigs/worker-rig';
import { countDynamoCommands } from './dynamo-commands';
import { round } from './stats';
import { renderTable } from './table';

/**
 * The ways the worker can be set up to register, each measured: both registration modes at the defaults
 * (the opt-in folded into the add), instore+line with both profiles in one call (a setting, since the
 * docs leave it Unconfirmed), and the separate calls of before the folding (the opt-in as a call of its
 * own): the baseline the folded forms are measured against, in the same run.
 */
export const REGISTRATION_VARIANTS = {
  'instore+line': { registrationMode: 'instore+line' },
  'line-only': { registrationMode: 'line-only' },
  'instore+line, profiles together': { registrationMode: 'instore+line', registerProfilesTogether: true },
  'instore+line, separate calls': { registrationMode: 'instore+line', subscribeOnRegister: false },
} as const satisfies Record<string, Partial<CapillaryConfig>>;
/** What the folded forms are measured against: every call of a new follower made on its own, as before the folding. */
export const SEPARATE_CALLS_VARIANT = 'instore+line, separate calls' satisfies RegistrationVariant;
export type RegistrationVariant = keyof typeof REGISTRATION_VARIANTS;
const VARIANTS = Object.keys(REGISTRATION_VARIANTS) as RegistrationVariant[];

export interface ServiceCalls {
  /** authenticated Capillary API calls (OAuth token requests excluded: one per worker instance, not per event) */
  capillary: number;
  line: number;
  /** UpdateItem/PutItem on the user records, rejected conditional writes included (DynamoDB bills them); the rate limiter's are in figure 5 */
  dynamoWrites: number;
  dynamoReads: number;
}

type EconomyCase = 'newFollower' | 'returningFollower' | 'unfollow' | 'duplicate' | 'stale';
export type CallEconomy = Record<RegistrationVariant, Record<EconomyCase, ServiceCalls>>;

const SERVICES: readonly (keyof ServiceCalls)[] = ['capillary', 'line', 'dynamoWrites', 'dynamoReads'];

const describeOutcome = ({ outcome, error }: RecordSettled): string =>
  error
    ? `error ${error.name}: ${error.message}`
    : `${outcome?.result}:${outcome && 'action' in outcome ? outcome.action : outcome?.reason}`;

function callTally(harness: WorkerHarness): () => ServiceCalls {
  const dynamoCommands = countDynamoCommands(harness.dynamo);
  const commands = (...names: string[]) => names.reduce((sum, name) => sum + (dynamoCommands.get(name) ?? 0), 0);
  return () => ({
    capillary: harness.capillary.calls().filter((call) => !call.path.startsWith('/v3/oauth')).length,
    line: harness.line.calls().length,
    dynamoWrites: commands('UpdateItemCommand', 'PutItemCommand'),
    dynamoReads: commands('GetItemCommand'),
  });
}

async function measureVariant(
  variant: RegistrationVariant,
  usersPerCase: number,
): Promise<Record<EconomyCase, ServiceCalls>> {
  const harness = await startWorkerHarness({ capillary: REGISTRATION_VARIANTS[variant] });
  // Each follower on its own: figure 4 counts the single-call path (figure 5c measures the bulk registration).
  harness.deps.bulk = undefined;
  const tally = callTally(harness);
  const { settled } = harness;

  /** Runs one batch and returns the calls per event, after checking every event ended as `expected`. */
  const callsPerEvent = async (events: LineWebhookEvent[], expected: string): Promise<ServiceCalls> => {
    const before = tally();
    settled.length = 0;
    await harness.run(events);
    const unexpected = settled.map(describeOutcome).filter((outcome) => outcome !== expected);
    if (unexpected.length > 0 || settled.length !== events.length) {
      throw new Error(
        `${variant}: expected ${events.length} × ${expected}, got ${settled.map(describeOutcome).join(', ')}`,
      );
    }
    const after = tally();
    return Object.fromEntries(
      SERVICES.map((service) => [service, round((after[service] - before[service]) / events.length, 2)]),
    ) as unknown as ServiceCalls;
  };

  try {
    const users = Array.from({ length: usersPerCase }, lineUserId);
    const minute = (n: number) => Date.UTC(2026, 0, 1) + n * 60_000;
    const returning = users.map((user) => followEvent(user, minute(2), { follow: { isUnblocked: true } }));
    return {
      newFollower: await callsPerEvent(
        users.map((user) => followEvent(user, minute(0))),
        'applied:register',
      ),
      unfollow: await callsPerEvent(
        users.map((user) => unfollowEvent(user, minute(1))),
        'applied:subscribe',
      ),
      returningFollower: await callsPerEvent(returning, 'applied:subscribe'),
      // LINE redelivers the very same event (same webhookEventId).
      duplicate: await callsPerEvent(returning, 'skipped:duplicate'),
      // An unfollow older than the follow already applied: overtaken in delivery.
      stale: await callsPerEvent(
        users.map((user) => unfollowEvent(user, minute(1.5))),
        'skipped:stale',
      ),
    };
  } finally {
    await harness.close();
  }
}

/** Needs DynamoDB (dynalite) endpoints in process.env before it is called. */
export async function measureCallEconomy(usersPerCase: number): Promise<CallEconomy> {
  const economy: Partial<CallEconomy> = {};
  for (const variant of VARIANTS) economy[variant] = await measureVariant(variant, usersPerCase);
  return economy as CallEconomy;
}

export function economyTable(economy: CallEconomy): string {
  const rows = VARIANTS.flatMap((variant) =>
    Object.entries(economy[variant]).map(([kind, calls]) => [
      variant,
      kind,
      ...SERVICES.map((service) => calls[service]),
    ]),
  );
  return renderTable(
    'Figure 4 — worker calls per event (targets: Capillary ≤ 1 new follower line-only, ≤ 2 instore+line, 1 unfollow, 0 duplicate/stale; DynamoDB writes ≤ 2)',
    ['mode', 'event', 'Capillary', 'LINE', 'DynamoDB writes', 'DynamoDB reads'],
    rows,
  );
}
