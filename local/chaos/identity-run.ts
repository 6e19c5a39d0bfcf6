/**
 * The identity mix's part of a chaos run, as play-scenario.ts drives it: planned over the deliveries, set up in
 * the stand-ins, its link API steps and Capillary actions played, then judged (identity-oracle.ts) and counted.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

import type { UserSyncState } from '../../lib/domain/sync-rules';
import type { CapillaryState } from '../standins/capillary-standin';
import type { CallRecord } from '../standins/standin-kit';
import type { ChaosServices } from './chaos-services';
import {
  loseMergeRequestAnswers,
  mergeRequestStories,
  planMergeRequests,
  settleMergeRequestsAtCut,
  type MergeRequestFate,
  type MergeRequestStory,
} from './identity-merge-requests';
import { IDENTITY_CHECKS, judgeIdentity, type IdentityCheck } from './identity-oracle';
import {
  performCapillaryActions,
  prepareIdentity,
  startIdentityLinkApi,
  startNotificationRelay,
  type IdentityFacts,
  type IdentityLinkApi,
  type NotificationRelay,
} from './identity-play';
import { planIdentity, type CapillaryActionKind, type IdentityPlan, type NotificationMode } from './identity-scenario';
import type { UserProblem } from './oracle';
import type { TableRow } from './report-table';
import type { Deliveries, WebhookDelivery } from './scenario';

/** How the bridge is set up for the identity mix. */
export interface IdentityRunOptions {
  seed: number;
  /** CAPILLARY_LINK_ANONYMOUS */
  anonymousCustomer: 'detach' | 'merge-request';
  registration: 'instore+line' | 'on-link';
}

/** The transitions played and what the bridge made of them, and each invariant check with its failures. */
export interface IdentityFigures {
  options: IdentityRunOptions;
  transitions: [label: string, count: number][];
  checks: Record<IdentityCheck, { checked: number; failed: number }>;
  recordsNamingGoneCustomer: number;
}

export interface IdentityMix {
  plan: IdentityPlan;
  callApi(delivery: WebhookDelivery): Promise<void>;
  /** Capillary's merges and deletions, at the quiet moment between the rounds */
  atCut(): void;
  /** every notification sent so far handed to the bridge */
  settled(): Promise<void>;
  /** the LINE users whose customer Capillary deleted on a PII request in this run */
  deletedUsers(): ReadonlySet<string>;
  judge(inputs: {
    capillary: CapillaryState;
    records: Map<string, UserSyncState | undefined>;
    nonceConsumers: Map<string, string | undefined>;
    outcomes: Map<string, number>;
    goneAnswers: number;
  }): { problems: UserProblem[]; figures: IdentityFigures };
  close(): Promise<void>;
}

export async function startIdentityMix(
  services: ChaosServices,
  deliveries: Deliveries,
  bridge: { tableName: string; queueUrl: string; sqs: SQSClient },
  options: IdentityRunOptions,
): Promise<IdentityMix> {
  const channels = services.secrets.channels;
  const plan = planIdentity(deliveries, channels, options.seed);
  const facts = await prepareIdentity(services, bridge.tableName, deliveries.users, plan);
  const api: IdentityLinkApi = startIdentityLinkApi(
    services,
    bridge.queueUrl,
    bridge.tableName,
    deliveries.users,
    plan,
    facts,
    bridge.sqs,
  );
  const { relay, dynamo } = await startNotificationRelay(
    services,
    bridge.queueUrl,
    bridge.tableName,
    facts,
    bridge.sqs,
  );
  const lineAccountIds = Object.fromEntries(channels.map((channel) => [channel.id, channel.capillaryLineAccountId]));
  const { capillary } = services;
  const mergePlan =
    options.anonymousCustomer === 'merge-request' ? planMergeRequests(deliveries.users, plan, options.seed) : undefined;
  if (mergePlan) loseMergeRequestAnswers(capillary, mergePlan);
  const fates = new Map<number, MergeRequestFate>();
  return {
    plan,
    callApi: (delivery) => api.call(delivery),
    atCut() {
      const pending = capillary.state().mergeRequests.filter((request) => request.status === 'PENDING');
      const underRequest = new Set(pending.map((request) => request.victimId));
      performCapillaryActions(services, deliveries.users, plan, facts, relay, (id) => underRequest.has(id));
      if (mergePlan) settleMergeRequestsAtCut(services, deliveries.users, plan, facts, relay, mergePlan, fates);
    },
    settled: async () => {
      await services.capillary.notificationsSettled();
      await relay.idle();
    },
    deletedUsers: () => new Set(facts.deletedProfiles.map((deleted) => deleted.lineUserId)),
    judge({ capillary: state, records, nonceConsumers, outcomes, goneAnswers }) {
      const mergeRequests = mergePlan ? mergeRequestStories(state.mergeRequests, fates) : undefined;
      const verdict = judgeIdentity({
        users: deliveries.users,
        plan,
        facts,
        capillary: state,
        records,
        nonceConsumers,
        lineAccountIds,
        registration: options.registration,
        ...(mergeRequests ? { mergeRequests } : {}),
      });
      const mergeRows = mergeRequests
        ? mergeRequestRows(mergeRequests, capillary.calls(), verdict.silentlyApprovedStillPending)
        : [];
      return {
        problems: verdict.problems,
        figures: {
          options,
          transitions: [...transitions(plan, facts, outcomes, goneAnswers), ...mergeRows],
          checks: verdict.checks,
          recordsNamingGoneCustomer: verdict.recordsNamingGoneCustomer,
        },
      };
    },
    close: () => closeAll(services, relay, dynamo),
  };
}

async function closeAll(services: ChaosServices, relay: NotificationRelay, dynamo: DynamoDBClient): Promise<void> {
  services.capillary.sendNotificationsTo(undefined);
  await relay.close();
  dynamo.destroy();
}

const count = <T>(items: readonly T[], wanted: (item: T) => boolean): number => items.filter(wanted).length;

function transitions(
  plan: IdentityPlan,
  facts: IdentityFacts,
  outcomes: Map<string, number>,
  goneAnswers: number,
): [string, number][] {
  const links = [...plan.links.values()];
  const answers = [...facts.apiAnswers.entries()];
  const byCustomer = answers.filter(([eventId]) => plan.unlinksByCustomer.has(eventId));
  const performed = facts.actions.filter((action) => action.performed);
  const outcome = (key: string) => outcomes.get(key) ?? 0;
  const kinds: CapillaryActionKind[] = [
    'merge-anonymous-into-member',
    'merge-anonymous-into-anonymous',
    'merge-linked-member',
    'delete',
  ];
  const modes: NotificationMode[] = ['once', 'duplicated', 'late', 'none'];
  return [
    ['links to the own member / a second member (re-link)', count(links, (l) => l.target === 'own')],
    ['  of which to a second member (re-links)', count(links, (l) => l.target === 'second')],
    ['links naming a member Capillary does not have', count(links, (l) => l.target === 'missing')],
    ['links naming a member carrying another LINE user', count(links, (l) => l.target === 'taken')],
    ['links by ID token (link API)', count(links, (l) => l.via === 'id-token')],
    ['ID token replays answered 409', count(answers, ([, a]) => a.replayStatus === 409)],
    [
      'ID token replays answered otherwise',
      count(answers, ([, a]) => a.replayStatus !== undefined && a.replayStatus !== 409),
    ],
    ['unlinks by customer (link API) queued (202)', count(byCustomer, ([, a]) => a.status === 202)],
    ['unlinks by customer answered 404 not-linked', count(byCustomer, ([, a]) => a.status === 404)],
    ['worker: linked', outcome('link-linked')],
    ['worker: link failed (reason recorded, nothing changed)', outcome('link-link-failed')],
    ['worker: merge pending', outcome('link-merge-pending')],
    ['worker: unlinked / not linked to that member', outcome('link-unlinked')],
    ['  not linked (recorded no-op)', outcome('link-not-linked')],
    ...kinds.map((kind): [string, number] => [`Capillary: ${kind}`, count(performed, (a) => a.kind === kind)]),
    ['  of which chained (the newer notification first)', count(performed, (a) => a.chained)],
    ...modes.map((mode): [string, number] => [`  notified ${mode}`, count(performed, (a) => a.notification === mode)]),
    [
      'planned actions skipped (the subject had no customer, or one under a merge request)',
      count(facts.actions, (a) => !a.performed),
    ],
    ['notifications handed to the bridge (duplicates included)', facts.notificationsRelayed],
    ['notifications answered other than 200', facts.notificationsRefused],
    ['worker: records re-pointed', outcome('identity-repointed')],
    ['worker: pending links settled', outcome('identity-link-settled')],
    ['worker: users forgotten', outcome('identity-forgotten')],
    ['worker: notification for a record that no longer names it', outcome('identity-not-named')],
    ['Capillary calls answered "customer gone" (8069 / 8109), re-resolved', goneAnswers],
  ];
}

/** Merge-request mode: what Capillary took and what became of it, and the answers to `POST /v2/requests`. */
function mergeRequestRows(
  stories: readonly MergeRequestStory[],
  calls: readonly CallRecord[],
  silentlyApprovedStillPending: number,
): [string, number][] {
  const filings = calls.filter((call) => call.method === 'POST' && call.path.startsWith('/v2/requests'));
  const fate = (wanted: MergeRequestFate) => count(stories, (story) => story.fate === wanted);
  return [
    ['merge requests filed (taken by Capillary)', stories.length],
    ['  approved at once (filed after the cut, for a member Capillary approves at once)', fate('at-once')],
    ['  approved at the cut, notified once', fate('once')],
    ['  approved at the cut, notified twice', fate('duplicated')],
    ['  approved at the cut, notified late', fate('late')],
    ['  approved at the cut with no notification', fate('silent')],
    ['  rejected at the cut, notified', fate('rejected')],
    ['  withdrawn by the bridge (its user unlinked or linked another member first)', fate('withdrawn')],
    ['  left pending', fate('pending')],
    ['POST /v2/requests answers lost (Capillary took the request)', count(filings, (c) => c.fault === 'lost-response')],
    ['POST /v2/requests answered "already pending" (9018)', count(filings, (c) => c.errorCodes.includes(9018))],
    ['POST /v2/requests answered "already merged" (9023)', count(filings, (c) => c.errorCodes.includes(9023))],
    ['links still merge-pending after an approval with no notification', silentlyApprovedStillPending],
  ];
}

/** The identity part of the chaos report. */
export function identityRows(figures: IdentityFigures): TableRow[] {
  const { options } = figures;
  return [
    [`identity mix (anonymous customer: ${options.anonymousCustomer}, registration: ${options.registration})`, ''],
    ...figures.transitions.map(([label, value]): TableRow => [`  ${label}`, value]),
    ['identity invariant, per user and channel (checked / failed)', ''],
    ...IDENTITY_CHECKS.map((name): TableRow => {
      const { checked, failed } = figures.checks[name];
      return [`  ${name}`, `${checked} / ${failed}`];
    }),
    ['  records naming a customer merged away (healed by the next event)', figures.recordsNamingGoneCustomer],
  ];
}

/** Users with an identity problem: the invariant failed for them. */
export const identityFailures = (figures: IdentityFigures): number =>
  Object.values(figures.checks).reduce((sum, check) => sum + check.failed, 0);
