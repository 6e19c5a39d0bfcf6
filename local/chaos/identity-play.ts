/**
 * Plays the identity mix (identity-scenario.ts) through the real bridge: the members each link names, the link
 * API (ID token links and their replays, unlinks by customer) called at the event's time, Capillary's merges and
 * PII deletions carried out by its stand-in at the cut, and their notifications relayed to the real notifications
 * handler once, twice, late or not at all. Records what the oracle needs to know that only the run can tell: the
 * link API's answers and which LINE profiles each deletion took away.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

import { ById, DEFAULT_CAPILLARY_ORG_ID } from '../../lib/config/channels';
import { handleLinkRequest } from '../../lib/link-api/handle-link-request';
import { buildLinkApiDeps, type LinkApiDeps } from '../../lib/link-api/link-api-deps';
import { handleNotificationRequest } from '../../lib/notifications/handle-notification-request';
import { buildNotificationsDeps, type NotificationsDeps } from '../../lib/notifications/notifications-deps';
import { LinkNonceStore } from '../../lib/store/link-nonce-store';
import { lineUserId } from '../line-event-factory';
import { linkApiConfigFor, linkApiRequest } from '../rigs/link-api-rig';
import { LOCAL_NOTIFICATIONS_TOKEN, notificationRequest, notificationsConfigFor } from '../rigs/notifications-rig';
import type { NotificationTarget } from '../standins/capillary-notifier';
import type { CustomerSnapshot } from '../standins/capillary-standin';
import type { ChaosServices } from './chaos-services';
import type { IdentityPlan, LinkTarget, NotificationMode, PlannedCapillaryAction } from './identity-scenario';
import type { UserHistory, WebhookDelivery } from './scenario';

/** The brand's members of one linking user: their own and a second one (re-links), by mobile number. */
export interface UserMembers {
  own: string;
  second: string;
}

/** A LINE profile a PII deletion took away, and when (the notification's createdAt). */
export interface DeletedProfile {
  lineUserId: string;
  accountId: string;
  at: number;
  /** false: Capillary sent no notification of it, so the bridge cannot mark the user forgotten */
  notified: boolean;
}

/** A Capillary action as carried out: what it merged or deleted (undefined ids: skipped, the subject had no customer). */
export interface PerformedAction extends PlannedCapillaryAction {
  victim?: number;
  survivor?: number;
  performed: boolean;
}

type ApiAnswer = { status: number; replayStatus?: number };

/** The answer an API call of this event got: a 202 stays (that call queued the work), any other is the latest. */
export function noteApiAnswer(answers: Map<string, ApiAnswer>, webhookEventId: string, answer: ApiAnswer): void {
  if (answers.get(webhookEventId)?.status !== 202) answers.set(webhookEventId, answer);
}

/** What the run tells the identity oracle, besides Capillary's and DynamoDB's state. */
export interface IdentityFacts {
  members: Map<string, UserMembers>;
  /** per channel, a member that carries another LINE user of that channel's account */
  takenMobiles: Map<string, string>;
  missingMobile: string;
  /** the LINE user ids the run put on the taken members itself (not the bridge's) */
  foreignLineIds: Set<string>;
  /**
   * link API answers by webhookEventId; replays: the second answer. An event LINE delivered again is sent again: a
   * 202 stays the answer (that call queued the work; a later one finds it done: 404 not-linked, say).
   */
  apiAnswers: Map<string, ApiAnswer>;
  actions: PerformedAction[];
  deletedProfiles: DeletedProfile[];
  /** notifications the relay passed to the handler (duplicates included), and answers other than 200 */
  notificationsRelayed: number;
  notificationsRefused: number;
}

const API_ATTEMPTS = 5;
const LOGIN_CHANNEL = (channel: string) => `login-${channel}`;
const NOTIFICATION_DELAY_MS = { late: 1500, duplicate: 800 };

/** The stand-in's REST API, authenticated as the bridge's org: for setup only (members carrying a foreign LINE user). */
async function capillaryPost(services: ChaosServices, path: string, body: unknown): Promise<Record<string, unknown>> {
  const tokenAnswer = await fetch(`${services.capillary.url}/v3/oauth/token/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: services.secrets.capillaryClientKey, secret: services.secrets.capillaryClientSecret }),
  });
  const { data } = (await tokenAnswer.json()) as { data: { accessToken: string } };
  const answer = await fetch(`${services.capillary.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cap-api-oauth-token': data.accessToken },
    body: JSON.stringify(body),
  });
  return (await answer.json()) as Record<string, unknown>;
}

const mobileOf = (prefix: string, index: number) => `66${prefix}${String(index).padStart(8, '0')}`;

/** Members for every linking user, a taken member per channel, and a nonce per accountLink naming its target. */
export async function prepareIdentity(
  services: ChaosServices,
  tableName: string,
  users: readonly UserHistory[],
  plan: IdentityPlan,
): Promise<IdentityFacts> {
  const { capillary, secrets } = services;
  const members = new Map<string, UserMembers>();
  const takenMobiles = new Map<string, string>();
  const foreignLineIds = new Set<string>();
  for (const [index, channel] of secrets.channels.entries()) {
    const mobile = mobileOf('7', index);
    const foreign = lineUserId();
    const profiles = [
      { source: 'INSTORE', identifiers: [{ type: 'mobile', value: mobile }] },
      { source: 'LINE', accountId: channel.capillaryLineAccountId, identifiers: [{ type: 'line', value: foreign }] },
    ];
    await capillaryPost(services, '/v2/customers', { profiles, loyaltyInfo: { loyaltyType: 'loyalty' } });
    takenMobiles.set(channel.id, mobile);
    foreignLineIds.add(foreign);
  }
  const facts: IdentityFacts = {
    members,
    takenMobiles,
    missingMobile: mobileOf('9', 0),
    foreignLineIds,
    apiAnswers: new Map(),
    actions: [],
    deletedProfiles: [],
    notificationsRelayed: 0,
    notificationsRefused: 0,
  };
  const nonces = new LinkNonceStore(services.dynamo, tableName);
  const expiresAt = Date.now() + 3600_000;
  for (const [index, user] of users.entries()) {
    if (!plan.linkChannels.has(user.channel) || !user.actions.some((a) => a === 'link' || a === 'unlink')) continue;
    const own = { own: mobileOf('8', 2 * index), second: mobileOf('8', 2 * index + 1) };
    capillary.addMember({ mobile: own.own });
    capillary.addMember({ mobile: own.second });
    members.set(`${user.destination}#${user.userId}`, own);
    for (const { nonce, webhookEventId } of user.links) {
      const customer = {
        kind: 'mobile' as const,
        value: targetMobile(facts, user, plan.links.get(webhookEventId)?.target),
      };
      await nonces.issueNonce(nonce, { userId: user.userId, destination: user.destination, customer, expiresAt });
    }
  }
  return facts;
}

/** The mobile number a link names. */
export function targetMobile(facts: IdentityFacts, user: UserHistory, target: LinkTarget = 'own'): string {
  const own = facts.members.get(`${user.destination}#${user.userId}`);
  if (target === 'missing' || own === undefined) return facts.missingMobile;
  if (target === 'taken') return facts.takenMobiles.get(user.channel) ?? facts.missingMobile;
  return target === 'second' ? own.second : own.own;
}

/** The member the user's links before this event name last (the one an unlink by customer names). */
function currentTarget(user: UserHistory, plan: IdentityPlan, before: string): LinkTarget {
  let target: LinkTarget = 'own';
  for (const [index, action] of user.actions.entries()) {
    const eventId = user.events[index]!.webhookEventId;
    if (eventId === before) break;
    const planned = plan.links.get(eventId);
    if (action === 'link' && planned && (planned.target === 'own' || planned.target === 'second'))
      target = planned.target;
  }
  return target;
}

/** The link API, as the brand's backend calls it, on the run's queue and table. */
export interface IdentityLinkApi {
  call(delivery: WebhookDelivery): Promise<void>;
}

export function startIdentityLinkApi(
  services: ChaosServices,
  queueUrl: string,
  tableName: string,
  users: readonly UserHistory[],
  plan: IdentityPlan,
  facts: IdentityFacts,
  sqs: SQSClient,
): IdentityLinkApi {
  const channels = new ById(
    services.secrets.channels.map((channel) => ({
      id: channel.id,
      destination: channel.destination,
      lineLoginChannelId: LOGIN_CHANNEL(channel.id),
      channelAccessToken: channel.channelAccessToken,
      capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
    })),
  );
  const deps: LinkApiDeps = buildLinkApiDeps(
    linkApiConfigFor(queueUrl, tableName, services.line.url, { channels, nonceTtlMs: 3600_000 }),
    services.dynamo,
    sqs,
  );
  const answered = (webhookEventId: string, answer: ApiAnswer) =>
    noteApiAnswer(facts.apiAnswers, webhookEventId, answer);
  const userOf = new Map(users.flatMap((user) => user.events.map((event) => [event.webhookEventId, user] as const)));
  // As the brand's backend does: a 503 (LINE or SQS failing) is sent again.
  const post = async (path: string, body: unknown, now: number): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const status = (await handleLinkRequest(linkApiRequest(path, body), deps, now)).statusCode ?? 0;
      if (status !== 503 || attempt === API_ATTEMPTS) return status;
    }
  };
  return {
    async call({ apiCall, channel }) {
      if (apiCall === undefined) return;
      const { webhookEventId, timestamp } = apiCall;
      const user = userOf.get(webhookEventId) as UserHistory;
      const link = plan.links.get(webhookEventId);
      if (link === undefined) {
        const customer = { mobile: targetMobile(facts, user, currentTarget(user, plan, webhookEventId)) };
        answered(webhookEventId, { status: await post('/line/link/unlink', { channel, customer }, timestamp) });
        return;
      }
      const idToken = services.line.issueIdToken(user.userId, LOGIN_CHANNEL(channel));
      const customer = { mobile: targetMobile(facts, user, link.target) };
      const status = await post('/line/link/id-token', { channel, idToken, customer }, timestamp);
      // A replay names another member: a second link if the token were not single use.
      const replay = { channel, idToken, customer: { mobile: targetMobile(facts, user, 'second') } };
      const replayStatus = link.replayed ? await post('/line/link/id-token', replay, timestamp) : undefined;
      answered(webhookEventId, { status, ...(replayStatus === undefined ? {} : { replayStatus }) });
    },
  };
}

/**
 * Capillary's webhook target for the run: passes each notification to the real handler, on time, twice (the second
 * later), or held back so that a newer one overtakes it, by the mode planned for the action's time (createdAt).
 */
export class NotificationRelay {
  readonly #modes = new Map<number, NotificationMode>();
  readonly #pending = new Set<Promise<unknown>>();
  #server: Server | undefined;
  #target: NotificationTarget | undefined;

  constructor(
    private readonly deps: NotificationsDeps,
    private readonly facts: IdentityFacts,
  ) {}

  /** where Capillary's stand-in sends notifications (set by start) */
  target(): NotificationTarget | undefined {
    return this.#target;
  }

  async start(): Promise<NotificationTarget> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const handled = this.#relay(Buffer.concat(chunks)).then(
          (status) => response.writeHead(status).end(),
          () => response.writeHead(500).end(),
        );
        this.#track(handled);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#target = {
      url: `http://127.0.0.1:${port}/capillary/notifications`,
      authorization: `Bearer ${LOCAL_NOTIFICATIONS_TOKEN}`,
    };
    return this.#target;
  }

  expect(createdAt: number, mode: NotificationMode): void {
    this.#modes.set(createdAt, mode);
  }

  /** Resolves once every notification received so far was handed over, duplicates included. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async close(): Promise<void> {
    await this.idle();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  async #relay(raw: Buffer): Promise<number> {
    const body = JSON.parse(raw.toString('utf8')) as { createdAt?: number };
    const mode = this.#modes.get(body.createdAt ?? 0) ?? 'once';
    if (mode === 'late') await new Promise((resolve) => setTimeout(resolve, NOTIFICATION_DELAY_MS.late));
    const status = await this.#handOver(body);
    if (mode === 'duplicated')
      this.#track(
        new Promise((resolve) => setTimeout(resolve, NOTIFICATION_DELAY_MS.duplicate)).then(() => this.#handOver(body)),
      );
    return status;
  }

  async #handOver(body: unknown): Promise<number> {
    this.facts.notificationsRelayed += 1;
    const answer = await handleNotificationRequest(notificationRequest(body), this.deps);
    if (answer.statusCode !== 200) this.facts.notificationsRefused += 1;
    return answer.statusCode ?? 500;
  }
}

export async function startNotificationRelay(
  services: ChaosServices,
  queueUrl: string,
  tableName: string,
  facts: IdentityFacts,
  sqs: SQSClient,
): Promise<{ relay: NotificationRelay; dynamo: DynamoDBClient }> {
  const dynamo = new DynamoDBClient({});
  const relay = new NotificationRelay(
    buildNotificationsDeps(notificationsConfigFor(queueUrl, tableName), dynamo, sqs),
    facts,
  );
  services.capillary.sendNotificationsTo(await relay.start());
  return { relay, dynamo };
}

/** The customer carrying this LINE user's profile of this account, as Capillary has it now. */
export function carrierOf(customers: readonly CustomerSnapshot[], lineId: string, accountId: string) {
  return customers.filter((customer) =>
    customer.profiles.some(
      (profile) =>
        profile.source === 'LINE' &&
        profile.accountId === accountId &&
        profile.identifiers.some((identifier) => identifier.type === 'line' && identifier.value === lineId),
    ),
  );
}

/** Capillary changes something at its time `createdAt`, its notification relayed as `mode` ('none': not sent at all). */
export function actNotified(
  services: ChaosServices,
  relay: NotificationRelay,
  createdAt: number,
  mode: NotificationMode,
  act: () => void,
): void {
  relay.expect(createdAt, mode);
  if (mode === 'none') services.capillary.sendNotificationsTo(undefined);
  try {
    services.atCapillaryTime(createdAt, act);
  } finally {
    services.capillary.sendNotificationsTo(relay.target());
  }
}

/**
 * Capillary's merges and deletions at the cut (a quiet moment), each at its planned time, notified as planned. A
 * customer `spared` (the victim of a merge request still pending) is left to the merge request's story.
 */
export function performCapillaryActions(
  services: ChaosServices,
  users: readonly UserHistory[],
  plan: IdentityPlan,
  facts: IdentityFacts,
  relay: NotificationRelay,
  spared: (customerId: number) => boolean = () => false,
): void {
  const { capillary, secrets } = services;
  const accountOf = new Map(secrets.channels.map((channel) => [channel.id, channel.capillaryLineAccountId]));
  const byKey = new Map(users.map((user) => [`${user.destination}#${user.userId}`, user]));
  const carrier = (key: string | undefined) => {
    const user = key === undefined ? undefined : byKey.get(key);
    const found = user && carrierOf(capillary.state().customers, user.userId, accountOf.get(user.channel) ?? '')[0];
    return found && !spared(found.id) ? found : undefined;
  };
  let freshMember = 0;
  const newMember = () => capillary.addMember({ mobile: mobileOf('6', freshMember++) });
  const notify = (createdAt: number, mode: NotificationMode, act: () => void) =>
    actNotified(services, relay, createdAt, mode, act);
  for (const action of plan.actions) {
    const victim = carrier(action.subject);
    const performed: PerformedAction = { ...action, performed: false };
    facts.actions.push(performed);
    if (victim === undefined) continue;
    if (action.kind === 'delete') {
      for (const profile of victim.profiles.filter((each) => each.source === 'LINE'))
        for (const identifier of profile.identifiers.filter((each) => each.type === 'line'))
          facts.deletedProfiles.push({
            lineUserId: identifier.value,
            accountId: profile.accountId,
            at: action.createdAt,
            notified: action.notification !== 'none',
          });
      notify(action.createdAt, action.notification, () => capillary.deleteCustomer(victim.id));
      Object.assign(performed, { victim: victim.id, performed: true });
      continue;
    }
    const survivor = action.kind === 'merge-anonymous-into-anonymous' ? carrier(action.survivorOf)?.id : newMember();
    if (survivor === undefined || survivor === victim.id) continue;
    // A chain: the first notification held back, so the second (newer) one arrives first.
    notify(action.createdAt, action.chained ? 'late' : action.notification, () =>
      capillary.mergeCustomers(survivor, victim.id),
    );
    if (action.chained) {
      const last = newMember();
      notify(action.createdAt + 1, action.notification === 'none' ? 'none' : 'once', () =>
        capillary.mergeCustomers(last, survivor),
      );
    }
    Object.assign(performed, { victim: victim.id, survivor, performed: true });
  }
}
