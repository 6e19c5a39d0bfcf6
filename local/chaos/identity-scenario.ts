/**
 * The identity mix of a chaos run (issue 19), planned on top of the LINE deliveries: which member each link names
 * (the user's own, their second one for a re-link, one Capillary does not have, one that already carries another
 * LINE user of the account), which links come through the link API's ID token (some replayed) and which unlinks
 * through the link API by customer, and what Capillary itself does at the middle of the run: merges (an anonymous
 * customer into a member or into another anonymous customer, a linked member into another member, some chained)
 * and PII deletions, each notified once, twice, late (overtaken by a newer one) or not at all.
 *
 * The run plays in two rounds split at `cutAt`: every event that happened before it, then (the queue drained, a
 * quiet moment) Capillary's actions, stamped just after it, and every later event while their notifications
 * arrive. Later events are shifted so that none shares a time with an action.
 */
import type { Deliveries, ScenarioChannel, UserHistory, WebhookDelivery } from './scenario';
import { seededRandom } from './seeded-random';

/** Whose member a link names: the user's own, their second (a re-link), none (8015), or one holding another LINE user. */
export type LinkTarget = 'own' | 'second' | 'missing' | 'taken';
export type CapillaryActionKind =
  'merge-anonymous-into-member' | 'merge-anonymous-into-anonymous' | 'merge-linked-member' | 'delete';
/** How Capillary's notification of an action reaches the bridge. */
export type NotificationMode = 'once' | 'duplicated' | 'late' | 'none';

export interface PlannedLink {
  target: LinkTarget;
  /** through the link API's ID token instead of LINE's accountLink; `replayed`: the token is sent again (409) */
  via: 'accountLink' | 'id-token';
  replayed: boolean;
}

export interface PlannedCapillaryAction {
  kind: CapillaryActionKind;
  /** the user (recordKey) whose customer is the victim (merges) or is deleted */
  subject: string;
  /** merge-anonymous-into-anonymous: the user whose customer survives */
  survivorOf?: string;
  /** merges: the survivor is merged again into a fresh member right after (its notification delivered first) */
  chained: boolean;
  notification: NotificationMode;
  /** Capillary's time of the action (the notification's createdAt); a chained merge's second step is createdAt + 1 */
  createdAt: number;
}

export interface IdentityPlan {
  /** round 1 is every event before this; Capillary's actions come at cutAt, cutAt + 1, … */
  cutAt: number;
  rounds: [WebhookDelivery[], WebhookDelivery[]];
  /** by the link's webhookEventId */
  links: Map<string, PlannedLink>;
  /** unlink postbacks sent as `POST /line/link/unlink {customer}` instead (by webhookEventId) */
  unlinksByCustomer: Set<string>;
  actions: PlannedCapillaryAction[];
  /** the channel of each provider where its shared users link (the others follow the sibling link) */
  linkChannels: Set<string>;
}

/** Shares of the mix, in percent. */
const MIX = {
  secondMember: 30,
  missingMember: 8,
  takenMember: 8,
  idToken: 25,
  idTokenReplayed: 50,
  unlinkByCustomer: 40,
  /** friends at the cut whose customer Capillary touches then */
  capillaryAction: 35,
  chained: 30,
};

const NOTIFICATION_MODES: NotificationMode[] = ['once', 'duplicated', 'late', 'none', 'once'];

/** The first channel of each provider plays its shared users' links (links of channels alone in a provider too). */
export const linkChannelsOf = (channels: readonly ScenarioChannel[]): Set<string> =>
  new Set(
    channels
      .filter((channel, index) => channels.findIndex((c) => c.provider === channel.provider) === index)
      .map((c) => c.id),
  );

const chance = (random: () => number, percent: number): boolean => random() * 100 < percent;

function planLinks(users: UserHistory[], random: () => number): Pick<IdentityPlan, 'links' | 'unlinksByCustomer'> {
  const links = new Map<string, PlannedLink>();
  const unlinksByCustomer = new Set<string>();
  for (const user of users) {
    const attacked = new Set(user.attacks.map((attack) => attack.nonce));
    for (const [index, action] of user.actions.entries()) {
      const eventId = user.events[index]!.webhookEventId;
      if (action === 'unlink' && chance(random, MIX.unlinkByCustomer)) unlinksByCustomer.add(eventId);
      if (action !== 'link') continue;
      const roll = random() * 100;
      const target: LinkTarget =
        roll < MIX.missingMember
          ? 'missing'
          : roll < MIX.missingMember + MIX.takenMember
            ? 'taken'
            : roll < MIX.missingMember + MIX.takenMember + MIX.secondMember
              ? 'second'
              : 'own';
      // An attacked link stays LINE's: the attack is on its nonce.
      const nonce = user.links.find((link) => link.webhookEventId === eventId)?.nonce ?? '';
      const via = !attacked.has(nonce) && chance(random, MIX.idToken) ? 'id-token' : 'accountLink';
      links.set(eventId, { target, via, replayed: via === 'id-token' && chance(random, MIX.idTokenReplayed) });
    }
  }
  return { links, unlinksByCustomer };
}

/** Capillary's actions at the cut, on users with no link-lane event after it (a deleted member is not linked again). */
function planActions(users: UserHistory[], cutAt: number, random: () => number): PlannedCapillaryAction[] {
  const key = (user: UserHistory) => `${user.destination}#${user.userId}`;
  // By person: a deletion of the customer of one channel may take the profiles of the provider's other channels.
  const linkingAfterCut = new Set(
    users
      .filter((user) =>
        user.actions.some(
          (action, index) => (action === 'link' || action === 'unlink') && user.events[index]!.timestamp >= cutAt,
        ),
      )
      .map((user) => user.userId),
  );
  const linksAfterCut = (user: UserHistory) => linkingAfterCut.has(user.userId);
  // A person's customer carries a profile of each channel of the provider they follow; Capillary keeps one
  // subscription per account on a customer, so two people merged together must share no account (no person would).
  const channelsOf = new Map<string, Set<string>>();
  for (const user of users) channelsOf.set(user.userId, (channelsOf.get(user.userId) ?? new Set()).add(user.channel));
  const sharesNoAccount = (one: UserHistory, other: UserHistory) =>
    ![...(channelsOf.get(one.userId) ?? [])].some((channel) => channelsOf.get(other.userId)?.has(channel));
  const friendAtCut = (user: UserHistory) =>
    user.actions
      .filter((action, index) => action !== 'link' && action !== 'unlink' && user.events[index]!.timestamp < cutAt)
      .at(-1) !== 'unfollow';
  const candidates = users.filter(
    (user) => !linksAfterCut(user) && friendAtCut(user) && chance(random, MIX.capillaryAction),
  );
  // Kinds (per kind of subject) and notification modes in turn, so that even a small run plays each of them.
  let turn = 0;
  const kindTurns = { linked: 0, anonymous: 0 };
  const subjects = new Set<string>();
  const survivorPeople = new Set<string>();
  const actions: PlannedCapillaryAction[] = [];
  let createdAt = cutAt;
  for (const user of candidates) {
    if (subjects.has(key(user))) continue;
    subjects.add(key(user));
    const linksBefore = user.actions.some((action) => action === 'link');
    const kinds: CapillaryActionKind[] = linksBefore
      ? ['merge-linked-member', 'delete']
      : ['merge-anonymous-into-member', 'delete', 'merge-anonymous-into-anonymous'];
    const kind = kinds[kindTurns[linksBefore ? 'linked' : 'anonymous']++ % kinds.length] as CapillaryActionKind;
    const survivor =
      kind === 'merge-anonymous-into-anonymous'
        ? users.find(
            (other) =>
              sharesNoAccount(user, other) &&
              !subjects.has(key(other)) &&
              !survivorPeople.has(other.userId) &&
              !linksAfterCut(other),
          )
        : undefined;
    if (kind === 'merge-anonymous-into-anonymous' && survivor === undefined) continue;
    if (survivor) subjects.add(key(survivor));
    // One person's customer takes in one other person at most: a second would share the first one's accounts.
    if (survivor) survivorPeople.add(survivor.userId);
    const chained = kind !== 'delete' && chance(random, MIX.chained);
    actions.push({
      kind,
      subject: key(user),
      ...(survivor ? { survivorOf: key(survivor) } : {}),
      chained,
      notification: NOTIFICATION_MODES[turn % NOTIFICATION_MODES.length] as NotificationMode,
      createdAt,
    });
    turn += 1;
    createdAt += chained ? 2 : 1;
  }
  return actions;
}

/**
 * Splits the requests at the cut (a request carrying events of both sides becomes two), shifts every later event
 * past the actions' times, and turns the events the link API carries into API steps (`apiCall`, no events).
 */
function splitRounds(
  requests: WebhookDelivery[],
  cutAt: number,
  shiftMs: number,
  viaApi: (eventId: string) => boolean,
): [WebhookDelivery[], WebhookDelivery[]] {
  const rounds: [WebhookDelivery[], WebhookDelivery[]] = [[], []];
  // Every event object is in exactly one request (redeliveries and attacks are copies): each is shifted once.
  for (const request of requests) {
    for (const round of [0, 1] as const) {
      const events = request.events.filter((event) => event.timestamp < cutAt === (round === 0));
      if (round === 1) for (const event of events) event.timestamp += shiftMs;
      const overLine = events.filter((event) => !viaApi(event.webhookEventId));
      if (overLine.length > 0) rounds[round].push({ ...request, events: overLine });
      for (const event of events.filter((each) => viaApi(each.webhookEventId)))
        rounds[round].push({
          channel: request.channel,
          destination: request.destination,
          events: [],
          apiCall: {
            webhookEventId: event.webhookEventId,
            userId: event.source?.userId ?? '',
            timestamp: event.timestamp,
          },
        });
    }
  }
  return rounds;
}

/** The identity mix over these deliveries (their later events are shifted in place: call once). */
export function planIdentity(deliveries: Deliveries, channels: readonly ScenarioChannel[], seed: number): IdentityPlan {
  const random = seededRandom(seed);
  const times = deliveries.users.flatMap((user) => user.events.map((event) => event.timestamp)).sort((a, b) => a - b);
  const cutAt = times[Math.floor(times.length / 2)] ?? 0;
  const { links, unlinksByCustomer } = planLinks(deliveries.users, random);
  const actions = planActions(deliveries.users, cutAt, random);
  const shiftMs = actions.length * 2 + 1;
  const viaApi = (eventId: string) => links.get(eventId)?.via === 'id-token' || unlinksByCustomer.has(eventId);
  const rounds = splitRounds(deliveries.requests, cutAt, shiftMs, viaApi);
  return { cutAt, rounds, links, unlinksByCustomer, actions, linkChannels: linkChannelsOf(channels) };
}
