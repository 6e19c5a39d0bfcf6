/**
 * The whole account-link flow against the running local pipeline, as a person would go through it
 * (docs/local.md#linking): follow (when the user has no record yet), tap "link" in chat, open the brand
 * page from the bot's button, log in with a mobile number, and let LINE (the stand-in) send the signed
 * accountLink event. Reports the member customer before and after.
 */
import { DEFAULT_CHANNEL_ID } from '../lib/config/channels';
import { maskUserId } from '../lib/observability/telemetry';
import { callbackBody, followEvent, postbackEvent } from './line-event-factory';
import { PipelineAdminClient, type LocalPipelineStatus, type UserRecords } from './pipeline-admin-api';
import { describeCustomers, describeRecord, formatReplayReport, replay, type ReplayReport } from './replay';
import type { CapillaryState, CustomerSnapshot } from './standins/capillary-standin';
import type { AccountLinkResult, LineStandInState } from './standins/line-standin';

export interface LinkFlowOptions {
  webhookUrl: string;
  secret: string;
  userId: string;
  mobile: string;
  /** ask the LINE stand-in for a `failed` result instead */
  failed: boolean;
  waitSeconds: number;
  progress: (line: string) => void;
}

export interface LinkFlowReport {
  chat: ReplayReport;
  memberId: number;
  memberBefore?: CustomerSnapshot;
  memberAfter?: CustomerSnapshot;
  linkPage: string;
  accountLink: AccountLinkResult;
  record: UserRecords[string];
  status: LocalPipelineStatus;
}

export class LinkFlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkFlowError';
  }
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  return (await response.json()) as T;
}

const memberWithMobile = (state: CapillaryState, mobile: string) =>
  state.customers.find((customer) =>
    customer.profiles.some(
      (p) => p.source === 'INSTORE' && p.identifiers.some((i) => i.type === 'mobile' && i.value === mobile),
    ),
  );

async function drained(admin: PipelineAdminClient, waitSeconds: number): Promise<LocalPipelineStatus> {
  const until = Date.now() + waitSeconds * 1000;
  for (;;) {
    const status = await admin.status();
    if (status.drained || Date.now() > until) return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function runLinkFlow(options: LinkFlowOptions): Promise<LinkFlowReport> {
  const admin = new PipelineAdminClient(options.webhookUrl);
  const status = await admin.probe();
  if (status === undefined)
    throw new LinkFlowError(`${options.webhookUrl} is not a local pipeline: start one with \`npm start\``);
  const { capillary, line, brandLoginPage } = status.endpoints;
  if (!capillary.standIn || !line.standIn)
    throw new LinkFlowError(
      'npm run link needs the Capillary and LINE stand-ins (unset CAPILLARY_BASE_URL / LINE_API_BASE_URL)',
    );
  const destination = status.channels.find((channel) => channel.id === DEFAULT_CHANNEL_ID)?.destination;
  if (destination === undefined)
    throw new LinkFlowError("the local pipeline's default channel has no destination (LINE_EXPECTED_DESTINATIONS)");

  // The brand's member, as it exists in store before LINE is involved.
  await fetch(`${capillary.url}/__admin/members`, { method: 'POST', body: JSON.stringify({ mobile: options.mobile }) });
  const memberBefore = memberWithMobile(await json<CapillaryState>(`${capillary.url}/__admin/state`), options.mobile);
  if (memberBefore === undefined)
    throw new LinkFlowError(`the Capillary stand-in refused a member with mobile ${options.mobile}`);

  // In chat: follow first if the bridge has never seen this user, then the rich menu's "link" postback.
  const records = await admin.userRecords(destination, [options.userId]);
  const now = Date.now();
  const postback = postbackEvent(options.userId, now, 'action=link');
  const events = records[options.userId] ? [postback] : [followEvent(options.userId, now - 1), postback];
  const chat = await replay({
    bodies: events.map((event) => ({
      name: event.type === 'follow' ? 'follow' : 'postback action=link',
      bytes: Buffer.from(callbackBody([event])),
    })),
    url: options.webhookUrl,
    secret: options.secret,
    tamper: false,
    waitSeconds: options.waitSeconds,
    progress: options.progress,
  });

  // The bot's answer holds the button to the brand page, with the link token in it.
  const sent = (await json<LineStandInState>(`${line.url}/__admin/state`)).sent;
  const answer =
    sent.find((entry) => entry.replyToken === postback.replyToken) ??
    sent.filter((entry) => entry.to === options.userId).at(-1);
  const linkPage = (answer?.messages[0] as { template?: { actions?: { uri?: string }[] } } | undefined)?.template
    ?.actions?.[0]?.uri;
  if (linkPage === undefined)
    throw new LinkFlowError('the bot sent no link button (see the worker log; is LINK_PAGE_URL set?)');
  const linkToken = new URL(linkPage).searchParams.get('linkToken') ?? '';

  // The brand page: log in, get redirected to LINE's account-link URL, and LINE sends the event.
  const login = await fetch(`${brandLoginPage}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ linkToken, mobile: options.mobile }),
    redirect: 'manual',
  });
  const location = login.headers.get('location');
  if (login.status !== 302 || location === null)
    throw new LinkFlowError(`the brand page did not redirect to LINE: HTTP ${login.status} ${await login.text()}`);
  const accountLink = await json<AccountLinkResult>(`${location}${options.failed ? '&result=failed' : ''}`);

  const after = await drained(admin, options.waitSeconds);
  const memberAfter = (await json<CapillaryState>(`${capillary.url}/__admin/state`)).customers.find(
    (customer) => customer.id === memberBefore.id,
  );
  const record = (await admin.userRecords(destination, [options.userId]))[options.userId] ?? null;
  return { chat, memberId: memberBefore.id, memberBefore, memberAfter, linkPage, accountLink, record, status: after };
}

export function formatLinkReport(report: LinkFlowReport, userId: string): string {
  const { channels } = report.status;
  const event = report.accountLink.event as { webhookEventId?: string; link?: { result?: string } } | undefined;
  return [
    formatReplayReport(report.chat).trimEnd(),
    '',
    'Account link',
    `  link page   ${report.linkPage.replace(/linkToken=[^&]+/, 'linkToken=…')}`,
    `  LINE event  ${report.accountLink.delivered ? `accountLink ${event?.link?.result} (${event?.webhookEventId}) → webhook HTTP ${report.accountLink.status}` : `none sent: ${report.accountLink.reason ?? `HTTP ${report.accountLink.status}`}`}`,
    `  worker      ${report.status.drained ? 'queue drained' : 'still working'}; DLQ holds ${report.status.deadLetterMessages} message(s)`,
    '',
    `Member ${report.memberId}`,
    `  before      ${describeCustomers(report.memberBefore ? [report.memberBefore] : [], channels)}`,
    `  after       ${describeCustomers(report.memberAfter ? [report.memberAfter] : [], channels)}`,
    `  LINE user   ${userId} (logs: ${maskUserId(userId)}): ${describeRecord(report.record)}`,
    '',
  ].join('\n');
}
