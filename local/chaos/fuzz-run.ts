/**
 * Fuzzes the real webhook handler with fast-check: each generated request goes to handleWebhookRequest
 * with a real SQS client on a local FIFO queue, counting what SQS accepted. Every answer is checked as
 * it comes; the first violation makes fast-check shrink the request and report seed, path and the
 * smallest failing recipe. The figures of the whole run are kept for the summary table.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';

import { createSqsClient } from '../../lib/queue/sqs-client';
import { handleWebhookRequest } from '../../lib/webhook/handle-webhook-request';
import { DESTINATION } from '../line-event-factory';
import { webhookChannel, webhookConfigFor } from '../rigs/webhook-rig';
import {
  buildFuzzRequest,
  FUZZ_CHANNEL,
  fuzzRecipe,
  MAX_BODY_BYTES,
  OTHER_FUZZ_CHANNEL,
  type BuiltRequest,
  type FuzzRecipe,
} from './fuzz-requests';
import { countWithShare, formatTable, type TableRow } from './report-table';

export interface FuzzOptions {
  seed: number;
  path?: string;
  requests: number;
  queueUrl: string;
  channelSecret: string;
}

export interface FuzzFigures {
  requests: number;
  byStatus: Record<string, number>;
  byGenerator: Record<string, Record<string, number>>;
  messagesEnqueued: number;
  enqueuedForForged: number;
  unhandledExceptions: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  heapMaxBytes: number;
  durationMs: number;
}

export interface FuzzReport {
  options: FuzzOptions;
  figures: FuzzFigures;
  /** fast-check's report of the first violation (seed, path, shrunk counterexample), if any */
  failure?: string;
}

/** A forced full collection, so heap figures compare live objects only. */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const heapUsed = () => process.memoryUsage().heapUsed;
const QUEUE_PURGE_EVERY = 1000;
const HEAP_SAMPLE_EVERY = 250;
/** Heap growth over a whole run that still counts as bounded (the handler keeps nothing between requests). */
export const HEAP_GROWTH_LIMIT_BYTES = 64 * 1024 * 1024;

/** Counts the entries SQS accepted; the refusing twin fails every call as an unavailable queue would. */
function sqsClients(): { counting: SQSClient; refusing: SQSClient; accepted: () => number } {
  let accepted = 0;
  const counting = createSqsClient();
  counting.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      accepted += ((result.output as { Successful?: unknown[] }).Successful ?? []).length;
      return result;
    },
    { step: 'initialize', name: 'countAccepted' },
  );
  const refusing = createSqsClient();
  refusing.middlewareStack.add(
    () => async () => {
      throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $fault: 'server' });
    },
    { step: 'initialize', name: 'refuseEverything' },
  );
  return { counting, refusing, accepted: () => accepted };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const CLEAR_REASONS: Record<number, RegExp> = {
  404: /^unknown channel$/,
  401: /x-line-signature/,
  413: new RegExp(`exceeds ${MAX_BODY_BYTES} bytes|over the \\d+-byte SQS message limit`),
  400: /\S/,
  500: /retry/,
};

/** Everything wrong with one answer; empty when the webhook behaved. */
function violationsOf(recipe: FuzzRecipe, built: BuiltRequest, answer: Answer, enqueued: number): string[] {
  const violations: string[] = [];
  if (built.unknownChannel) {
    // Nothing about such a request matters: it is refused before its body is looked at.
    if (answer.status !== 404 || answer.body.message !== 'unknown channel')
      violations.push(`a request to an unknown channel was answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    if (enqueued > 0) violations.push(`${enqueued} message(s) enqueued for an unknown channel`);
    return violations;
  }
  const allowed = recipe.queueDown ? [200, 400, 401, 413, 500] : [200, 400, 401, 413];
  if (!allowed.includes(answer.status)) violations.push(`answered ${answer.status}`);
  if (answer.status !== 200) {
    const message = answer.body.message;
    const reason = CLEAR_REASONS[answer.status];
    if (typeof message !== 'string' || (reason && !reason.test(message)))
      violations.push(`${answer.status} without a clear message: ${JSON.stringify(answer.body)}`);
  }
  if (built.oversized && answer.status !== 413)
    violations.push(`a body over ${MAX_BODY_BYTES} bytes was answered ${answer.status}, not 413`);
  if (!built.signed && enqueued > 0) violations.push(`${enqueued} message(s) enqueued for a forged request`);
  if (!built.signed && !built.oversized && answer.status !== 401)
    violations.push(`a forged request was answered ${answer.status}, not 401`);
  if (built.signed && !built.oversized && built.expectedSignedStatus !== undefined) {
    const expected = built.expectedSignedStatus === 200 && recipe.queueDown ? 500 : built.expectedSignedStatus;
    if (answer.status !== expected)
      violations.push(
        `a signed ${recipe.generator} request was answered ${answer.status}, expected ${expected}: ${JSON.stringify(answer.body)}`,
      );
  }
  if (answer.status === 200 && (answer.body.enqueued !== built.events || enqueued !== built.events)) {
    violations.push(
      `answered 200 for ${built.events} event(s) with enqueued=${String(answer.body.enqueued)}, SQS accepted ${enqueued}`,
    );
  }
  return violations;
}

function countInto(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const sqs = sqsClients();
  const config = webhookConfigFor(
    options.queueUrl,
    [
      webhookChannel({ id: FUZZ_CHANNEL, channelSecrets: [options.channelSecret], destination: DESTINATION }),
      webhookChannel({ id: OTHER_FUZZ_CHANNEL, channelSecrets: [`${options.channelSecret}-other`] }),
    ],
    MAX_BODY_BYTES,
  );
  collectGarbage();
  const figures: FuzzFigures = {
    requests: 0,
    byStatus: {},
    byGenerator: {},
    messagesEnqueued: 0,
    enqueuedForForged: 0,
    unhandledExceptions: 0,
    heapBeforeBytes: heapUsed(),
    heapAfterBytes: 0,
    heapMaxBytes: heapUsed(),
    durationMs: 0,
  };
  const started = Date.now();
  let shrinking = false; // after the first violation fast-check only replays smaller variants of it: not counted
  const property = fc.asyncProperty(fuzzRecipe, async (recipe) => {
    const built = buildFuzzRequest(recipe, options.channelSecret);
    const acceptedBefore = sqs.accepted();
    let answer: Answer;
    try {
      const response = await handleWebhookRequest(built.event, {
        config,
        sqs: recipe.queueDown ? sqs.refusing : sqs.counting,
      });
      answer = { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? '{}') as Record<string, unknown> };
    } catch (error) {
      if (!shrinking) figures.unhandledExceptions += 1;
      shrinking = true;
      throw new Error(
        `unhandled exception from a ${recipe.generator} request: ${(error as Error).name}: ${(error as Error).message}`,
      );
    }
    const enqueued = sqs.accepted() - acceptedBefore;
    const violations = violationsOf(recipe, built, answer, enqueued);
    if (shrinking) {
      if (violations.length > 0) throw new Error(violations.join('; '));
      return;
    }
    figures.requests += 1;
    figures.messagesEnqueued += enqueued;
    if (!built.signed) figures.enqueuedForForged += enqueued;
    countInto(figures.byStatus, String(answer.status));
    countInto((figures.byGenerator[recipe.generator] ??= {}), String(answer.status));
    if (figures.requests % HEAP_SAMPLE_EVERY === 0) figures.heapMaxBytes = Math.max(figures.heapMaxBytes, heapUsed());
    if (figures.requests % QUEUE_PURGE_EVERY === 0)
      await sqs.counting.send(new PurgeQueueCommand({ QueueUrl: options.queueUrl }));
    if (violations.length > 0) {
      shrinking = true;
      throw new Error(violations.join('; '));
    }
  });
  let failure: string | undefined;
  try {
    await fc.assert(property, { seed: options.seed, path: options.path, numRuns: options.requests });
  } catch (error) {
    const cause = (error as Error).cause;
    failure = `${(error as Error).message}${cause instanceof Error ? `\nCause: ${cause.message}` : ''}`;
  } finally {
    sqs.counting.destroy();
    sqs.refusing.destroy();
  }
  collectGarbage();
  figures.heapAfterBytes = heapUsed();
  figures.heapMaxBytes = Math.max(figures.heapMaxBytes, figures.heapAfterBytes);
  figures.durationMs = Date.now() - started;
  return { options, figures, failure };
}

const mebibytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export function formatFuzzReport({ options, figures }: FuzzReport): string {
  const statuses = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status}: ${count.toLocaleString('en-US')}`)
      .join(', ');
  const generators = Object.entries(figures.byGenerator)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, counts]): TableRow => [
      `  ${name}`,
      `${Object.values(counts)
        .reduce((sum, count) => sum + count, 0)
        .toLocaleString('en-US')} (${statuses(counts)})`,
    ]);
  return formatTable(`Webhook fuzzing: seed ${options.seed}, ${(figures.durationMs / 1000).toFixed(1)} s`, [
    ['requests', figures.requests],
    ...Object.entries(figures.byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]): TableRow => [`  answered ${status}`, countWithShare(count, figures.requests)]),
    ['by generator (requests, answers)', ''],
    ...generators,
    ['messages enqueued', figures.messagesEnqueued],
    ['messages enqueued for forged requests', figures.enqueuedForForged],
    ['unhandled exceptions', figures.unhandledExceptions],
    [
      'heap used before / after (after GC)',
      `${mebibytes(figures.heapBeforeBytes)} / ${mebibytes(figures.heapAfterBytes)}`,
    ],
    ['heap used, highest sample', mebibytes(figures.heapMaxBytes)],
  ]);
}
