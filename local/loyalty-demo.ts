/**
 * What `npm run demo` shows after its replay (docs/local.md#loyalty-in-line): one member's rich menu following their
 * tier. The user of the replay's account-link sample is linked to a store member the way a person links
 * (link-flow.ts: chat, the brand page, LINE's accountLink event; the sample's own nonce was made by no brand page), and
 * the worker shows the menu of the member's tier. Then Capillary (the stand-in, `POST /__admin/tier`) raises the tier:
 * its tierUpgraded notification reaches the bridge through the notifications endpoint and the queue, and once the
 * worker applied it the user's menu is read again. Both menus are the LINE stand-in's record of what LINE was asked.
 */
import { BridgeError } from '../lib/errors';
import { maskUserId } from '../lib/observability/telemetry';
import { runLinkFlow, type LinkFlowOptions } from './link-flow';
import { PipelineAdminClient, type EventAttempt } from './pipeline-admin-api';
import { describeRecord, type ReplayReport } from './replay';
import { DEFAULT_LOYALTY_PROGRAM, type LoyaltyTier } from './standins/capillary-loyalty';
import type { CapillaryState } from './standins/capillary-standin';
import type { RichMenuRecord } from './standins/line-rich-menus';
import type { LineStandInState } from './standins/line-standin';
import { alignColumns } from './text-table';

/** The store member the demo links: a mobile no sample and no walkthrough of docs/local.md uses. */
export const DEMO_MEMBER_MOBILE = '66800000005';

export type LoyaltyDemoOptions = Omit<LinkFlowOptions, 'mobile' | 'failed'> & {
  /** the replay's account-link sample, named in the report */
  sampleName: string;
};

/** A tier and the menu LINE shows its member; no menu = the account's default menu. */
export interface MenuAtTier {
  tierName: string;
  menu?: RichMenuRecord;
}

export interface LoyaltyDemoReport {
  sampleName: string;
  userId: string;
  memberId: number;
  linked: MenuAtTier;
  raised: MenuAtTier & {
    /** what the worker did with each tier event the notification queued (one per LINE user and channel) */
    outcomes: string[];
    waitedMs: number;
  };
}

/** The demo could not show the menus: the message says which step failed. */
export class LoyaltyDemoError extends BridgeError {
  override readonly name = 'LoyaltyDemoError';
}

const POLL_INTERVAL_MS = 200;

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new LoyaltyDemoError(`${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The account-link sample of a replay and its user: the demo links that user. */
export function accountLinkSample(report: ReplayReport): { sampleName: string; userId: string } | undefined {
  for (const { name, events } of report.bodies) {
    const userId = events.find((event) => event.type === 'accountLink')?.source?.userId;
    if (userId !== undefined) return { sampleName: name, userId };
  }
  return undefined;
}

export async function runLoyaltyDemo(options: LoyaltyDemoOptions): Promise<LoyaltyDemoReport> {
  const link = await runLinkFlow({ ...options, mobile: DEMO_MEMBER_MOBILE, failed: false });
  if (link.record?.link?.status !== 'linked')
    throw new LoyaltyDemoError(`the account link did not complete: ${describeRecord(link.record)}`);
  const { capillary, line } = link.status.endpoints;
  const memberId = link.memberId;
  const tierOf = async (): Promise<LoyaltyTier> => {
    const state = await json<CapillaryState>(`${capillary.url}/__admin/state`);
    const tierNumber = state.loyalty[memberId]?.tierNumber;
    // A customer whose loyalty nobody changed is in the lowest tier.
    return DEFAULT_LOYALTY_PROGRAM.tiers.find((tier) => tier.tierNumber === tierNumber) ?? lowestTier();
  };
  const menuAt = async (tier: LoyaltyTier): Promise<MenuAtTier> => {
    const state = await json<LineStandInState>(`${line.url}/__admin/state`);
    const menuId = state.userRichMenus[options.userId];
    const menu = state.richMenus.find(({ richMenuId }) => richMenuId === menuId);
    return { tierName: tier.tierName, ...(menu === undefined ? {} : { menu }) };
  };

  const current = await tierOf();
  const linked = await menuAt(current);
  const higher = DEFAULT_LOYALTY_PROGRAM.tiers.find((tier) => tier.tierNumber === current.tierNumber + 1);
  if (higher === undefined) throw new LoyaltyDemoError(`member ${memberId} is already in the top tier`);
  const admin = new PipelineAdminClient(options.webhookUrl);
  const before = await admin.status();
  const started = Date.now();
  await json(`${capillary.url}/__admin/tier`, {
    method: 'POST',
    body: JSON.stringify({ customerId: memberId, tier: higher.tierName }),
  });
  const applied = await tierEventsApplied(admin, before.lastAttemptSeq, started + options.waitSeconds * 1000);
  if (applied.length === 0)
    throw new LoyaltyDemoError(`the worker applied no tier change within ${options.waitSeconds} s`);
  return {
    sampleName: options.sampleName,
    userId: options.userId,
    memberId,
    linked,
    raised: {
      ...(await menuAt(await tierOf())),
      outcomes: applied.map(({ outcome }) => (outcome?.result === 'tier' ? outcome.action : 'done')).sort(),
      waitedMs: Date.now() - started,
    },
  };
}

function lowestTier(): LoyaltyTier {
  const [lowest] = DEFAULT_LOYALTY_PROGRAM.tiers;
  if (lowest === undefined) throw new LoyaltyDemoError('the loyalty program has no tiers');
  return lowest;
}

/**
 * The notifications endpoint queues every tier event of a notification before answering it, so once the worker
 * settled one of them, a drained queue means it settled them all.
 */
async function tierEventsApplied(admin: PipelineAdminClient, since: number, deadline: number): Promise<EventAttempt[]> {
  for (;;) {
    const applied = (await admin.attemptsSince(since)).filter(
      ({ deleted, outcome }) => deleted && outcome?.result === 'tier',
    );
    if ((applied.length > 0 && (await admin.status()).drained) || Date.now() > deadline) return applied;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

const describeMenu = ({ menu }: MenuAtTier): string =>
  menu === undefined ? "→ no menu of its own (the account's default menu)" : `→ menu ${menu.richMenuId} (${menu.name})`;

/** The report's lines: the user masked as in the logs; no names, no points. */
export function formatLoyaltyDemo(report: LoyaltyDemoReport): string {
  const { linked, raised } = report;
  const seconds = (raised.waitedMs / 1000).toFixed(1);
  const rows = [
    ['after the link', `tier ${linked.tierName}`, describeMenu(linked)],
    [
      'tier raised by Capillary',
      `tier ${raised.tierName}`,
      `${describeMenu(raised)}, ${seconds} s after the change (worker: ${raised.outcomes.join(', ')})`,
    ],
  ];
  return [
    `Loyalty in LINE: member ${report.memberId}, linked through the brand page to the user of ${report.sampleName} (logs: ${maskUserId(report.userId)})`,
    ...alignColumns(rows).map((line) => `  ${line}`),
    '',
  ].join('\n');
}
