/**
 * The doctor's LINE checks for one channel (docs/deploy.md#first-deploy): the token works, the bot is the
 * configured destination, LINE holds this stage's webhook URL and has it on, LINE's own webhook test (on request),
 * whether followers can be listed (backfill), the LINE Login channel for ID tokens, and the rich menus named in the settings.
 */
import { fail, pass, unknown, type CheckResult } from './check';
import { field, isAnswer, probe, type ProbeAnswer, type ProbeOutcome } from './http-probe';

export interface LineChannelTarget {
  id: string;
  channelAccessToken: string;
  destination?: string;
  lineLoginChannelId?: string;
  /** the URL this stage serves the channel at; undefined = not known (only the path is compared) */
  expectedWebhookUrl?: string;
  /** rich menu ids the settings name (any tier) */
  richMenuIds: readonly string[];
}

export interface LineCheckOptions {
  apiBaseUrl: string;
  /** ask LINE to call the webhook (POST /v2/bot/channel/webhook/test; 60 a hour) */
  testWebhook: boolean;
  /** where the stage keeps the channel's settings, named in the fixes */
  settingsHint: string;
}

const CONSOLE = 'LINE Developers console → the channel → Messaging API';

/** `what: HTTP 401 Authentication failed…`, or why nothing answered. */
function answerText(outcome: ProbeOutcome): string {
  if (!isAnswer(outcome)) return `no answer (${outcome.unreachable})`;
  const message = field(outcome.body, 'message');
  return `HTTP ${outcome.status}${message ? ` ${message}` : ''}`;
}

export async function checkLineChannel(channel: LineChannelTarget, options: LineCheckOptions): Promise<CheckResult[]> {
  const area = `LINE ${channel.id}`;
  const call = (path: string, init: RequestInit = {}) =>
    probe(`${options.apiBaseUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${channel.channelAccessToken}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });

  const info = await call('/v2/bot/info');
  if (!isAnswer(info) || info.status !== 200) {
    const fix = isAnswer(info)
      ? `issue a new channel access token (${CONSOLE} → Channel access token) and store it in ${options.settingsHint}`
      : `check the LINE API base URL ${options.apiBaseUrl} (lineApiBaseUrl) and the network`;
    const skipped = ['bot user id', 'webhook endpoint', 'followers list', 'rich menus'].map((check) =>
      unknown(area, check, 'not checked: the access token does not work'),
    );
    return [fail(area, 'access token', `GET /v2/bot/info answered ${answerText(info)}`, fix), ...skipped];
  }
  const botUserId = field(info.body, 'userId') ?? '';
  return [
    pass(area, 'access token', `works: bot "${field(info.body, 'displayName')}" (${field(info.body, 'basicId')})`),
    checkDestination(area, channel, botUserId, options),
    await checkWebhookEndpoint(area, channel, await call('/v2/bot/channel/webhook/endpoint')),
    ...(options.testWebhook
      ? [checkWebhookTest(area, await call('/v2/bot/channel/webhook/test', { method: 'POST', body: '{}' }))]
      : []),
    checkFollowers(area, await call('/v2/bot/followers/ids?limit=1')),
    await checkLoginChannel(area, channel, options),
    ...(await checkRichMenus(area, channel, (id) => call(`/v2/bot/richmenu/${encodeURIComponent(id)}`))),
  ];
}

function checkDestination(
  area: string,
  channel: LineChannelTarget,
  botUserId: string,
  options: LineCheckOptions,
): CheckResult {
  if (channel.destination === undefined)
    return pass(area, 'bot user id', `${botUserId}; no destination set, so a body for any bot is accepted`);
  if (channel.destination === botUserId) return pass(area, 'bot user id', `${botUserId} is the configured destination`);
  return fail(
    area,
    'bot user id',
    `the token's bot is ${botUserId}, the settings say ${channel.destination}`,
    `set the channel's destination to ${botUserId} in ${options.settingsHint} (or use this channel's own token)`,
  );
}

async function checkWebhookEndpoint(
  area: string,
  channel: LineChannelTarget,
  answer: ProbeOutcome,
): Promise<CheckResult> {
  const check = 'webhook endpoint';
  if (!isAnswer(answer) || answer.status !== 200)
    return unknown(area, check, `GET /v2/bot/channel/webhook/endpoint answered ${answerText(answer)}`);
  const endpoint = field(answer.body, 'endpoint') ?? '';
  const active = field(answer.body, 'active') === 'true';
  const expected = channel.expectedWebhookUrl;
  const setUrl = `set the Webhook URL to ${expected ?? `…/line/webhook${channel.id === 'default' ? '' : `/${channel.id}`}`} (${CONSOLE} → Webhook settings)`;
  const pathMatches = endpoint
    .replace(/\/+$/, '')
    .endsWith(channel.id === 'default' ? '/line/webhook' : `/line/webhook/${channel.id}`);
  if (expected !== undefined ? endpoint !== expected : !pathMatches)
    return fail(area, check, `LINE sends this channel's events to "${endpoint || '(none)'}"`, setUrl);
  if (!active)
    return fail(
      area,
      check,
      `${endpoint} is set but "Use webhook" is off`,
      `turn on "Use webhook" (${CONSOLE} → Webhook settings)`,
    );
  return pass(
    area,
    check,
    `${endpoint}, active${expected === undefined ? ' (host not compared: pass --webhook-url)' : ''}`,
  );
}

function checkWebhookTest(area: string, answer: ProbeOutcome): CheckResult {
  const check = 'webhook test';
  if (!isAnswer(answer) || answer.status !== 200)
    return unknown(area, check, `POST /v2/bot/channel/webhook/test answered ${answerText(answer)}`);
  const statusCode = field(answer.body, 'statusCode');
  if (field(answer.body, 'success') === 'true') return pass(area, check, `LINE called the webhook: HTTP ${statusCode}`);
  const verdict =
    `LINE's verdict: ${field(answer.body, 'reason')} (HTTP ${statusCode}) ${field(answer.body, 'detail') ?? ''}`.trim();
  const fix =
    statusCode === '401'
      ? "the stage's channel secret is not this channel's: store the console's Channel secret in the stage's settings"
      : "read the webhook function's log at the time of the test (docs/operations.md)";
  return fail(area, check, verdict, fix);
}

function checkFollowers(area: string, answer: ProbeOutcome): CheckResult {
  const check = 'followers list';
  if (isAnswer(answer) && answer.status === 200)
    return pass(area, check, 'the account may list followers: backfill and drift checks work');
  if (isAnswer(answer) && answer.status === 403)
    return unknown(
      area,
      check,
      'not available: the account is neither Verified nor Premium, so backfill and drift checks cannot list followers',
      'followers arrive through follow events only; a Verified or Premium account allows npm run backfill',
    );
  return unknown(area, check, `GET /v2/bot/followers/ids answered ${answerText(answer)}`);
}

/** An ID token nobody issued: a LINE Login channel that exists answers it with `invalid_request` (400). */
async function checkLoginChannel(
  area: string,
  channel: LineChannelTarget,
  options: LineCheckOptions,
): Promise<CheckResult> {
  const check = 'LINE Login channel';
  const clientId = channel.lineLoginChannelId;
  if (clientId === undefined) return pass(area, check, 'not set: the link API takes no ID tokens for this channel');
  if (!/^\d{10}$/.test(clientId))
    return fail(
      area,
      check,
      `"${clientId}" is not a channel id`,
      `set lineLoginChannelId to the LINE Login channel's Channel ID (10 digits) in ${options.settingsHint}`,
    );
  const answer = await probe(`${options.apiBaseUrl}/oauth2/v2.1/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ id_token: 'line-capillary-bridge-doctor', client_id: clientId }).toString(),
  });
  if (isAnswer(answer) && answer.status === 400 && field(answer.body, 'error') === 'invalid_request')
    return pass(
      area,
      check,
      `${clientId}: the verify endpoint answers (the first ID-token link shows it is this provider's channel)`,
    );
  return unknown(area, check, `POST /oauth2/v2.1/verify answered ${answerText(answer)}`);
}

async function checkRichMenus(
  area: string,
  channel: LineChannelTarget,
  get: (id: string) => Promise<ProbeOutcome>,
): Promise<CheckResult[]> {
  const check = 'rich menus';
  if (channel.richMenuIds.length === 0) return [pass(area, check, 'none named in the settings')];
  const answers = await Promise.all(channel.richMenuIds.map(async (id) => ({ id, answer: await get(id) })));
  const missing = answers.filter(({ answer }) => isAnswer(answer) && answer.status === 404).map(({ id }) => id);
  const unclear = answers.filter(
    ({ answer }) => !isAnswer(answer) || ![200, 404].includes((answer as ProbeAnswer).status),
  );
  if (missing.length > 0)
    return [
      fail(
        area,
        check,
        `LINE has no rich menu ${missing.join(', ')}`,
        'create the rich menu on this channel, or correct its id in the settings (richMenusByTier)',
      ),
    ];
  if (unclear.length > 0)
    return [unknown(area, check, unclear.map(({ id, answer }) => `${id}: ${answerText(answer)}`).join('; '))];
  return [pass(area, check, `${answers.length} exist: ${channel.richMenuIds.join(', ')}`)];
}

/**
 * The rich menu ids a channel's settings name, read defensively: `richMenusByTier` (tier → id) in the channel's
 * JSON entry, or LINE_RICH_MENUS_BY_TIER for a single channel. Anything else reads as none.
 */
export function richMenuIdsOf(byTier: unknown): string[] {
  let value = byTier;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return [];
    }
  }
  if (typeof value !== 'object' || value === null) return [];
  return [...new Set(Object.values(value).filter((id): id is string => typeof id === 'string' && id !== ''))];
}
