import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

import { BridgeError } from '../lib/errors';
import { LOCAL_CREDENTIALS } from './local-credentials';

/** The local channel secret: the samples in events/ and the test vectors of docs/line.md#signature are signed with it. */
export const LOCAL_CHANNEL_SECRET = LOCAL_CREDENTIALS.lineChannelSecret;

/** A channel of the local pipeline: its settings as a LINE_CHANNELS entry, and where its sample bodies are. */
export interface LocalChannel {
  id: string;
  channelSecret: string;
  channelAccessToken: string;
  capillaryLineAccountId: string;
  destination: string;
  /** the LINE Login channel whose ID tokens the link API accepts for this channel */
  lineLoginChannelId?: string;
  /** tier name → rich menu id (docs/loyalty.md#tier--rich-menu) */
  richMenusByTier?: Record<string, string>;
  /** the sample bodies, relative to events/ */
  samplesDir: string;
}

/** The local LINE Login channel (the LINE stand-in verifies the ID tokens it issues for it). */
export const LOCAL_LINE_LOGIN_CHANNEL_ID = '2000000001';

/** A rich menu the brand made for a tier of its loyalty program. */
export interface LocalTierMenu {
  tierName: string;
  richMenuId: string;
  name: string;
}

/**
 * The menus of the `default` channel's tiers, one per tier of the Capillary stand-in's program (Silver, Gold,
 * Platinum), which the LINE stand-in holds as if the brand had created them, so `npm run demo` shows the menu follow
 * the tier.
 */
export const LOCAL_TIER_MENUS: readonly LocalTierMenu[] = ['Silver', 'Gold', 'Platinum'].map((tierName, index) => ({
  tierName,
  richMenuId: `richmenu-${String(index + 1).padStart(32, '0')}`,
  name: `${tierName} members`,
}));

/**
 * The two channels `npm start` serves when the environment names none: two Official Accounts of one
 * provider (a brand's Thai and Taiwanese accounts), so their samples share a user id and end on one
 * Capillary customer with one LINE profile per account. Local values, not secrets.
 */
export const LOCAL_CHANNELS: readonly LocalChannel[] = [
  {
    id: 'default',
    channelSecret: LOCAL_CHANNEL_SECRET,
    channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken,
    capillaryLineAccountId: LOCAL_CREDENTIALS.capillaryLineAccountId,
    destination: 'U1f2e3d4c5b6a79880011223344556677',
    lineLoginChannelId: LOCAL_LINE_LOGIN_CHANNEL_ID,
    richMenusByTier: Object.fromEntries(LOCAL_TIER_MENUS.map(({ tierName, richMenuId }) => [tierName, richMenuId])),
    samplesDir: '.',
  },
  {
    id: 'tw',
    channelSecret: 'fedcba9876543210fedcba9876543210',
    channelAccessToken: 'local-channel-access-token-tw',
    capillaryLineAccountId: 'local-line-account-tw',
    destination: 'U2e3d4c5b6a7988001122334455667788',
    samplesDir: 'tw',
  },
];

/** LINE_CHANNELS for the local channels. */
export const localChannelsSetting = (): string =>
  JSON.stringify(LOCAL_CHANNELS.map(({ samplesDir: _samples, ...entry }) => entry));

export function localChannel(id: string): LocalChannel | undefined {
  return LOCAL_CHANNELS.find((channel) => channel.id === id);
}

/**
 * The secret a replay signs with when given none: a local channel's own; for the channel `default`, as for
 * `npm start`, a channel secret in the environment wins over the local one.
 */
export function replaySecret(channel = 'default'): string {
  const envSecret = channel === 'default' ? process.env.LINE_CHANNEL_SECRET : undefined;
  return envSecret || (localChannel(channel)?.channelSecret ?? LOCAL_CHANNEL_SECRET);
}
export const LOCAL_WEBHOOK_PATH = '/line/webhook';

/** `POST /line/webhook/{channel}`; no channel = `/line/webhook`, which serves the channel `default`. */
export const webhookPathFor = (channel?: string): string =>
  channel === undefined ? LOCAL_WEBHOOK_PATH : `${LOCAL_WEBHOOK_PATH}/${encodeURIComponent(channel)}`;

export interface SampleBody {
  name: string;
  /** exact bytes, never re-serialised: the signature covers them */
  bytes: Buffer;
}

/** Nothing to replay at that target; the message says what would be. */
export class SampleBodiesError extends BridgeError {
  override readonly name = 'SampleBodiesError';

  constructor(
    readonly target: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${target === '-' ? 'stdin' : target} ${problem}`, options);
  }
}

const WHAT_TO_GIVE = 'give a LINE callback body (.json), a directory of them, or - for stdin';

function statOf(target: string) {
  try {
    return statSync(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SampleBodiesError(
      target,
      `${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}: ${WHAT_TO_GIVE}`,
      { cause: error },
    );
  }
}

/**
 * A file, every *.json body directly inside a directory (sorted by name), or stdin for "-". Checked before anything
 * is posted (or, for `npm start -- --replay`, started): a missing file or an empty stdin is one line, not a stack.
 */
export function readSampleBodies(target: string, stdin: () => Buffer = () => readFileSync(0)): SampleBody[] {
  if (target === '-') {
    const bytes = stdin();
    if (bytes.length === 0)
      throw new SampleBodiesError(
        target,
        'was empty: pipe a body in, e.g. `cat events/02-follow.json | npm run replay -- -`',
      );
    return [{ name: 'stdin', bytes }];
  }
  if (statOf(target).isDirectory()) {
    const files = readdirSync(target)
      .filter((file) => file.endsWith('.json'))
      .sort();
    if (files.length === 0) throw new SampleBodiesError(target, `has no .json files: ${WHAT_TO_GIVE}`);
    return files.map((file) => ({ name: basename(file, '.json'), bytes: readFileSync(join(target, file)) }));
  }
  return [{ name: basename(target, '.json'), bytes: readFileSync(target) }];
}
