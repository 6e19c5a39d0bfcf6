/**
 * npm start [-- --webhook-port 3000 --sqs-port 4566 --dynamodb-port 8000 --capillary-port 8090 --line-port 8091 --brand-port 8092
 *              --concurrency 2 --visibility-timeout 10 --poll-wait 1 --registration-mode instore+line|line-only|on-link
 *              --log-level DEBUG|INFO|WARN|ERROR] [--replay <file.json | directory>]
 *
 * `--replay events/` (what `npm run demo` does) replays the samples once the pipeline is ready (those of the
 * second local channel from events/tw/ too) and prints the report, then keeps running, so the main job is one
 * command on a fresh clone.
 * The whole pipeline on 127.0.0.1 (see lib/local/local-pipeline.ts), then its log stream until Ctrl-C.
 * Port 0 picks a free port. CAPILLARY_BASE_URL or LINE_API_BASE_URL in the environment replace that
 * stand-in with the real service (its credentials then come from the environment too).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { REGISTRATION_MODES, type RegistrationMode } from '../lib/config/capillary-registration';
import { DEFAULT_CHANNEL_ID } from '../lib/config/channels';
import { showReadableLogs, type LogLevel, type ReadableLogs } from '../local/log-view';
import { replaceOldNodeWarning } from '../local/node-support';
import { DEFAULT_LOCAL_PORTS, webhookUrlFor, type LocalPorts } from '../local/pipeline-admin-api';
import type { ReplayReport } from '../local/replay';
import { LOCAL_CHANNELS, readSampleBodies, replaySecret, type SampleBody } from '../local/sample-events';
import { parseCli } from './cli';

const USAGE = `usage: npm start -- [--webhook-port N] [--sqs-port N] [--dynamodb-port N] [--capillary-port N] [--line-port N] [--brand-port N]
                    [--concurrency N] [--visibility-timeout SECONDS] [--poll-wait SECONDS]
                    [--registration-mode instore+line|line-only|on-link] [--log-level DEBUG|INFO|WARN|ERROR]
                    [--replay <file.json | directory>]
Port 0 picks a free port. Set CAPILLARY_BASE_URL (+ CAPILLARY_CLIENT_KEY/SECRET) or LINE_API_BASE_URL
(+ LINE_CHANNEL_ACCESS_TOKEN) to use the real service instead of its stand-in.`;

/** A message left on the queue comes back this soon locally (serverless.yml's 180 s suits Lambda, not a demo). */
const LOCAL_VISIBILITY_TIMEOUT_SECONDS = 10;

class UsageError extends Error {
  constructor(problem: string) {
    super(`${problem}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

function integerOption(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return value;
}

function parseStartArgs(args: string[]) {
  const { values } = parseCli(
    USAGE,
    {
      'webhook-port': { type: 'string' },
      'sqs-port': { type: 'string' },
      'dynamodb-port': { type: 'string' },
      'capillary-port': { type: 'string' },
      'line-port': { type: 'string' },
      'brand-port': { type: 'string' },
      concurrency: { type: 'string' },
      'visibility-timeout': { type: 'string' },
      'poll-wait': { type: 'string' },
      'registration-mode': { type: 'string' },
      'log-level': { type: 'string', default: 'INFO' },
      replay: { type: 'string' },
    },
    { args },
  );
  const port = (name: keyof LocalPorts) => integerOption(values, `${name}-port`, DEFAULT_LOCAL_PORTS[name], 0, 65535);
  const logLevel = values['log-level'].toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel))
    throw new UsageError('--log-level must be DEBUG, INFO, WARN or ERROR');
  const registrationMode = values['registration-mode'];
  if (registrationMode !== undefined && !(REGISTRATION_MODES as readonly string[]).includes(registrationMode)) {
    throw new UsageError(`--registration-mode must be one of ${REGISTRATION_MODES.join(', ')}`);
  }
  return {
    replayTarget: values.replay,
    logLevel: logLevel as LogLevel,
    pipeline: {
      ports: {
        webhook: port('webhook'),
        sqs: port('sqs'),
        dynamodb: port('dynamodb'),
        capillary: port('capillary'),
        line: port('line'),
        brand: port('brand'),
      },
      concurrency: integerOption(values, 'concurrency', 2, 1, 50),
      visibilityTimeoutSeconds: integerOption(
        values,
        'visibility-timeout',
        LOCAL_VISIBILITY_TIMEOUT_SECONDS,
        1,
        43_200,
      ),
      pollWaitSeconds: integerOption(values, 'poll-wait', 1, 0, 20),
      registrationMode: registrationMode as RegistrationMode | undefined,
      capillaryBaseUrl: process.env.CAPILLARY_BASE_URL || undefined,
      lineApiBaseUrl: process.env.LINE_API_BASE_URL || undefined,
    },
  };
}

const FORCE_STOP_AFTER_MS = 1000;

/** Their message says what to do; a stack trace would only bury it. */
const SELF_EXPLAINING_ERRORS = new Set(['UsageError', 'PortsInUseError', 'ConfigError', 'SampleBodiesError']);

async function main(): Promise<void> {
  const started = Date.now();
  const nodeWarning = replaceOldNodeWarning();
  const options = parseStartArgs(process.argv.slice(2));
  // Read first: a replay of a missing file stops here, before anything starts.
  const replays = options.replayTarget === undefined ? undefined : replaysOf(options.replayTarget);
  const logs = showReadableLogs(options.logLevel);
  // Imported only now: the handlers' Powertools logger reads its settings when it is built.
  const { describeLocalPipeline, startLocalPipeline } = await import('../local/local-pipeline');
  const pipeline = await startLocalPipeline(options.pipeline);
  process.stdout.write(describeLocalPipeline(pipeline, Date.now() - started));
  if (nodeWarning) process.stdout.write(`${nodeWarning}\n\n`);

  let stoppingSince: number | undefined;
  const stop = (signal: NodeJS.Signals) => {
    // tsx passes the terminal's Ctrl-C on again when this process acknowledges it slowly, so a repeat
    // within a second is the same Ctrl-C; a later one means "do not wait for the drain".
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince > FORCE_STOP_AFTER_MS) process.exit(130);
      return;
    }
    stoppingSince = Date.now();
    process.stdout.write(
      `\n${signal}: stopping the local pipeline (finishing in-flight batches; Ctrl-C again to force)…\n`,
    );
    pipeline.stop().then(
      () => {
        process.stdout.write('Local pipeline stopped.\n');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`Stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (replays === undefined) return;
  try {
    const { capillary, line, webhookUrl } = pipeline.endpoints;
    await replayOnce(
      replays.filter(({ channel }) => pipeline.channels.some((served) => served.id === channel)),
      webhookUrl,
      logs,
      // The tier menus are the local channels' and live in the stand-ins.
      pipeline.localChannels && capillary.standIn && line.standIn,
    );
  } catch (error) {
    // Ctrl-C during the replay: the pipeline is going away under it, and the stop line says so.
    if (stoppingSince === undefined) throw error;
  }
}

interface ChannelReplay {
  channel: string;
  target: string;
  bodies: SampleBody[];
}

/** The samples at `target`, then those of each other local channel found beside them (events/tw/ for tw). */
function replaysOf(target: string): ChannelReplay[] {
  const own = { channel: DEFAULT_CHANNEL_ID, target, bodies: readSampleBodies(target) }; // a missing target stops here, in one line
  const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory();
  if (!isDirectory(target)) return [own];
  const others = LOCAL_CHANNELS.filter(
    ({ id, samplesDir }) => id !== DEFAULT_CHANNEL_ID && isDirectory(join(target, samplesDir)),
  ).map(({ id, samplesDir }) => ({
    channel: id,
    target: join(target, samplesDir),
    bodies: readSampleBodies(join(target, samplesDir)),
  }));
  return [own, ...others];
}

/**
 * The demo: the reports come last and alone; the routine log lines of the replay are held back, WARN and ERROR are not.
 * With `showLoyalty`, the user of the account-link sample is then linked to a member whose tier Capillary raises, and
 * the member's rich menu is shown before and after.
 */
async function replayOnce(
  replays: ChannelReplay[],
  url: string,
  logs: ReadableLogs,
  showLoyalty: boolean,
): Promise<void> {
  const { formatReplayReport, replay, replayProblems } = await import('../local/replay');
  const targets = replays.map(({ target }) => target).join(' and ');
  process.stdout.write(`Replaying ${targets} (the log stream shows only warnings and errors until the report)…\n`);
  const resume = logs.quiet();
  const reports = [];
  for (const { channel, target, bodies } of replays) {
    const report = await replay({
      bodies,
      url: webhookUrlFor(url, channel),
      secret: replaySecret(channel),
      tamper: false,
      waitSeconds: 300,
      progress: (line) => process.stderr.write(`… ${line}\n`),
    });
    reports.push({ target, report });
  }
  const loyalty = showLoyalty && reports[0] ? await loyaltyLines(reports[0].report, url) : undefined;
  const heldBack = resume();
  const rule = '═'.repeat(100);
  for (const { target, report } of reports)
    process.stdout.write(`\n${rule}\nReplay of ${target}\n${rule}\n${formatReplayReport(report)}${rule}\n`);
  if (loyalty?.lines) process.stdout.write(`${loyalty.lines}${rule}\n`);
  const problems = [
    ...reports.flatMap(({ report }) => replayProblems(report)),
    ...(loyalty?.problem ? [loyalty.problem] : []),
  ];
  process.stdout.write(
    problems.length > 0
      ? `Replay problems: ${problems.join('; ')}\n`
      : `Replay of ${targets} done (${heldBack} routine log lines not shown: \`npm start\` and \`npm run replay\` in two terminals show them all).\n` +
          'The pipeline keeps running and its log stream resumes: `npm run replay -- <file>` in another terminal, Ctrl-C to stop.\n',
  );
}

/** The loyalty lines of the demo (none without an account-link sample in the replay), or why they could not be shown. */
async function loyaltyLines(report: ReplayReport, url: string): Promise<{ lines?: string; problem?: string }> {
  const { accountLinkSample, formatLoyaltyDemo, runLoyaltyDemo } = await import('../local/loyalty-demo');
  const sample = accountLinkSample(report);
  if (sample === undefined) return {};
  try {
    const demo = await runLoyaltyDemo({
      ...sample,
      webhookUrl: url,
      secret: replaySecret(DEFAULT_CHANNEL_ID),
      waitSeconds: 60,
      progress: (line) => process.stderr.write(`… ${line}\n`),
    });
    return { lines: formatLoyaltyDemo(demo) };
  } catch (error) {
    return { problem: `Loyalty in LINE not shown: ${(error as Error).message}` };
  }
}

main().catch((error: unknown) => {
  const { name, message, stack } = error as Error;
  process.stderr.write(`${SELF_EXPLAINING_ERRORS.has(name) ? message : stack}\n`);
  process.exit(1);
});
