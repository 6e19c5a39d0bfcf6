/**
 * The identity mix with CAPILLARY_LINK_ANONYMOUS=merge-request: a link of a user on an anonymous customer files a
 * Capillary merge request (victim: the anonymous customer, survivor: the member). Some answers to `POST /v2/requests`
 * are lost after Capillary took the request (the bridge must not file it again). At the cut, Capillary's team
 * approves some pending requests, notified once, twice or late like Member Care's merges, some with no notification
 * at all, rejects some (notified), and leaves the others pending; after the cut it approves the requests into some
 * members as soon as they are filed. The bridge withdraws a pending request when its user unlinks or links another
 * member first. What became of each request (its fate) is what the identity oracle judges the users by.
 */
import type { CapillaryStandIn, MergeRequestRecord } from '../standins/capillary-standin';
import type { ChaosServices } from './chaos-services';
import { actNotified, type IdentityFacts, type NotificationRelay } from './identity-play';
import type { IdentityPlan, NotificationMode } from './identity-scenario';
import type { UserHistory } from './scenario';
import { seededRandom } from './seeded-random';

/**
 * `at-once`: approved when filed (after the cut); `once` / `duplicated` / `late`: approved at the cut and notified
 * so; `silent`: approved at the cut with no notification; `rejected`: rejected at the cut, notified; `withdrawn`: by
 * the bridge; `pending`: never reviewed.
 */
export type MergeRequestFate =
  'at-once' | Exclude<NotificationMode, 'none'> | 'silent' | 'rejected' | 'withdrawn' | 'pending';
export interface MergeRequestStory extends MergeRequestRecord {
  fate: MergeRequestFate;
}

/** Fates at the cut, in turn, so that even a small run plays each of them. */
const FATES_AT_CUT: MergeRequestFate[] = ['once', 'silent', 'pending', 'rejected', 'duplicated', 'late'];
/** Shares, in percent: users whose member Capillary merges into at once after the cut; answers lost to POST /v2/requests. */
const SHARES = { atOnce: 50, lostAnswer: 30 };
/** Its own stream of the seed: the plans of the detach mode stay as they were. */
const STREAM = 0x6d65_7267;

export interface MergeRequestPlan {
  /** the users (recordKey) whose members take their merge requests at once after the cut */
  approvedAtOnce: Set<string>;
  /** how many filings pass before each lost answer, in turn */
  lostAnswerGaps: number[];
}

const key = (user: { destination: string; userId: string }) => `${user.destination}#${user.userId}`;

export function planMergeRequests(users: readonly UserHistory[], plan: IdentityPlan, seed: number): MergeRequestPlan {
  const random = seededRandom(seed ^ STREAM);
  const linking = users.filter((user) => plan.linkChannels.has(user.channel) && user.actions.includes('link'));
  const approvedAtOnce = new Set(linking.filter(() => random() * 100 < SHARES.atOnce).map(key));
  const meanGap = 100 / SHARES.lostAnswer;
  const lostAnswerGaps = linking.map(() => Math.floor(random() * 2 * meanGap));
  return { approvedAtOnce, lostAnswerGaps };
}

/** Capillary takes each of those filings and the bridge never gets the answer (a gateway timeout or a reset). */
export function loseMergeRequestAnswers(capillary: CapillaryStandIn, { lostAnswerGaps }: MergeRequestPlan): void {
  for (const [index, skip] of lostAnswerGaps.entries())
    capillary.injectFault({
      kind: 'lost-response',
      reply: index % 2 === 0 ? 'gateway-timeout' : 'connection-reset',
      method: 'POST',
      pathPrefix: '/v2/requests',
      times: 1,
      ...(skip > 0 ? { skip } : {}),
    });
}

/** The member a user's link-lane events before the cut leave them linked to, by plan (undefined: none, or unlinked). */
function lastTargetBeforeCut(user: UserHistory, plan: IdentityPlan, facts: IdentityFacts): string | undefined {
  const members = facts.members.get(key(user));
  let mobile: string | undefined;
  for (const [index, action] of user.actions.entries()) {
    const eventId = user.events[index]!.webhookEventId;
    if (action === 'unlink') mobile = undefined;
    const target = plan.links.get(eventId)?.target;
    if (action === 'link' && (target === 'own' || target === 'second')) mobile = members?.[target];
  }
  return mobile;
}

/**
 * At the cut, after Capillary's other actions: each pending request whose link is still the user's last one (no
 * link-lane event after the cut) meets its fate in turn, from Capillary's time `createdAt` on; a request the user
 * moved on from stays pending. Then the members of `approvedAtOnce` take their requests at once.
 */
export function settleMergeRequestsAtCut(
  services: ChaosServices,
  users: readonly UserHistory[],
  plan: IdentityPlan,
  facts: IdentityFacts,
  relay: NotificationRelay,
  mergePlan: MergeRequestPlan,
  fates: Map<number, MergeRequestFate>,
): void {
  const { capillary } = services;
  const memberId = (mobile: string | undefined) =>
    mobile === undefined ? undefined : capillary.customersWithIdentifier('mobile', mobile)[0]?.id;
  const linksAfterCut = (user: UserHistory) =>
    user.actions.some(
      (action, index) => (action === 'link' || action === 'unlink') && user.events[index]!.timestamp >= plan.cutAt,
    );
  const linkers = users.filter((user) => facts.members.has(key(user)));
  const currentMembers = new Set(
    linkers.filter((user) => !linksAfterCut(user)).map((user) => memberId(lastTargetBeforeCut(user, plan, facts))),
  );
  let createdAt = plan.cutAt + plan.actions.length * 2 + 1;
  let turn = 0;
  for (const request of capillary.state().mergeRequests.filter((each) => each.status === 'PENDING')) {
    const fate = currentMembers.has(request.survivorId) ? FATES_AT_CUT[turn++ % FATES_AT_CUT.length]! : 'pending';
    fates.set(request.id, fate);
    if (fate === 'pending') continue;
    if (fate === 'rejected') {
      actNotified(services, relay, createdAt++, 'once', () => capillary.rejectMergeRequest(request.id));
      continue;
    }
    const mode: NotificationMode = fate === 'silent' ? 'none' : (fate as NotificationMode);
    actNotified(services, relay, createdAt++, mode, () => capillary.approveMergeRequest(request.id));
  }
  const atOnce = new Set(
    linkers
      .filter((user) => mergePlan.approvedAtOnce.has(key(user)))
      .flatMap((user) => Object.values(facts.members.get(key(user)) ?? {}).map((mobile) => memberId(mobile))),
  );
  capillary.approveMergesWhenFiled((request) => atOnce.has(request.survivorId));
}

/** Every request Capillary took, with its fate: approved but not at the cut is approved at once; rejected so, withdrawn. */
export function mergeRequestStories(
  requests: readonly MergeRequestRecord[],
  fates: ReadonlyMap<number, MergeRequestFate>,
): MergeRequestStory[] {
  return requests.map((request) => ({
    ...request,
    fate: fates.get(request.id) ?? (request.status === 'APPROVED' ? 'at-once' : STATUS_FATES[request.status]),
  }));
}

const STATUS_FATES = { PENDING: 'pending', REJECTED: 'withdrawn' } as const;
