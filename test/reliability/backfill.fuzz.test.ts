/**
 * Fuzzes what the backfill reads from outside: LINE's follower pages and counts, Capillary's bulk answers
 * (served over HTTP by a server answering generated bodies and statuses), and the job's own queue messages.
 * Whatever comes back, the clients answer a valid value or one of their named errors, never a crash, and a
 * bulk record counts as done only when Capillary gave it a customer id and no error. FUZZ_SEED replays a run.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import fc from 'fast-check';

import { LineBulkRegistrar } from '../../lib/capillary/bulk-upsert';
import { CapillaryApiError, CapillaryUnavailableError } from '../../lib/capillary/errors';
import { CapillaryHttpClient } from '../../lib/capillary/http-client';
import { TAKEN_BY_CALLER } from '../../lib/capillary/rate-limiter';
import { FollowerCursorRejectedError, FollowerListUnavailableError, LineApiError } from '../../lib/line/errors';
import { LineFollowersClient } from '../../lib/line/follower-pages';
import { parseBackfillTick } from '../../lib/queue/backfill-ticks';
import { InvalidBackfillTickError } from '../../lib/queue/errors';
import { workerConfigFor } from '../../local/rigs/worker-rig';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = 150;

/** Answers the next queued reply to every request. */
let nextReply: { status: number; body: string } = { status: 200, body: '{}' };
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () =>
      response.writeHead(nextReply.status, { 'content-type': 'application/json' }).end(nextReply.body),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const jsonish = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record({
      userIds: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null))),
      next: fc.option(fc.oneof(fc.string(), fc.integer())),
    })
    .map((value) => JSON.stringify(value)),
  fc.string(),
);
const statuses = fc.constantFrom(200, 200, 200, 400, 401, 403, 404, 500, 503);

it(`LINE follower pages and counts: a valid value or a named error, whatever LINE answers (seed ${seed})`, async () => {
  const client = new LineFollowersClient({ channelAccessToken: 't', baseUrl: url, timeoutMs: 2000, maxAttempts: 1 });
  await fc.assert(
    fc.asyncProperty(
      statuses,
      jsonish,
      fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
      async (status, body, start) => {
        nextReply = { status, body };
        const named = (error: unknown) =>
          error instanceof LineApiError ||
          error instanceof FollowerListUnavailableError ||
          error instanceof FollowerCursorRejectedError;
        try {
          const page = await client.page(start);
          expect(status).toBe(200);
          expect(page.userIds.every((id) => typeof id === 'string')).toBe(true);
          expect(page.next === undefined || (typeof page.next === 'string' && page.next !== '')).toBe(true);
        } catch (error) {
          expect(named(error)).toBe(true);
        }
        try {
          const counts = await client.followerCounts('20261130');
          expect(typeof counts.status).toBe('string');
          for (const value of [counts.followers, counts.blocks, counts.targetedReaches])
            expect(value === undefined || Number.isFinite(value)).toBe(true);
        } catch (error) {
          expect(named(error)).toBe(true);
        }
      },
    ),
    { seed, numRuns: RUNS },
  );
});

it(`Capillary bulk answers: one outcome per record, done only with a customer id and no error (seed ${seed})`, async () => {
  const items = fc.oneof(
    fc.record(
      {
        entityId: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
        errors: fc.oneof(fc.constant([]), fc.array(fc.record({ code: fc.integer() })), fc.string(), fc.constant(null)),
        warnings: fc.oneof(
          fc.constant([]),
          fc.array(fc.record({ code: fc.constantFrom(8050, 91022) })),
          fc.constant(7),
        ),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue(),
  );
  const bodies = fc.oneof(
    fc
      .record(
        { response: fc.array(items, { maxLength: 4 }), totalCount: fc.integer(), failureCount: fc.integer() },
        { requiredKeys: [] },
      )
      .map((value) => JSON.stringify(value)),
    jsonish,
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(200, 201, 400, 500), bodies, async (status, body) => {
      nextReply = { status, body };
      const config = workerConfigFor('unused', url, url).capillary;
      const account = '2001914141242';
      const http = new CapillaryHttpClient({
        baseUrl: url,
        auth: { scheme: 'basic', id: 'u', secret: 'p', oauthHeaderName: 'x' },
        timeoutMs: 2000,
        maxAttempts: 1,
        limiter: TAKEN_BY_CALLER,
      });
      const registrar = new LineBulkRegistrar(http, config, account, { take: async () => true }, 'record');
      const userIds = ['U0123456789abcdef0123456789abcdef', 'U1123456789abcdef0123456789abcdef'];
      try {
        const outcomes = await registrar.upsert(userIds, { deadlineAt: Number.POSITIVE_INFINITY });
        expect(outcomes.map((outcome) => outcome.userId)).toEqual(userIds);
        const parsed = (() => {
          try {
            return JSON.parse(body) as { response?: unknown };
          } catch {
            return {};
          }
        })();
        for (const [index, outcome] of outcomes.entries()) {
          if (!outcome.ok) continue;
          const item = (parsed.response as Record<string, unknown>[])[index] as Record<string, unknown>;
          expect(Number.isSafeInteger(item.entityId)).toBe(true);
          expect(Array.isArray(item.errors) ? item.errors.length : 0).toBe(0);
          expect(outcome.customerId).toBe(item.entityId);
        }
      } catch (error) {
        expect(error instanceof CapillaryApiError || error instanceof CapillaryUnavailableError).toBe(true);
      }
    }),
    { seed, numRuns: RUNS },
  );
});

it(`backfill queue messages: a tick or InvalidBackfillTickError (seed ${seed})`, () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.jsonValue().map((value) => JSON.stringify(value)),
        fc
          .record({ channel: fc.oneof(fc.string(), fc.integer()), jobId: fc.oneof(fc.string(), fc.constant(null)) })
          .map((value) => JSON.stringify(value)),
      ),
      (body) => {
        try {
          const tick = parseBackfillTick(body);
          expect(typeof tick.channel).toBe('string');
          expect(typeof tick.jobId).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidBackfillTickError);
        }
      },
    ),
    { seed, numRuns: 1000 },
  );
});
