/**
 * Fuzzes the real Capillary notifications handler (lib/notifications) with fast-check: unauthenticated requests
 * (no token, wrong tokens, other schemes), and authenticated ones whose bodies Capillary would never send: random
 * bytes, random JSON, envelopes without an event name, merges, merge requests' outcomes and PII deletions whose
 * customer ids are malformed, arrays with a bad entry, bodies over the limit, other paths. Every answer must be a 4xx, nothing may be queued and
 * no notification remembered. The handler runs with its real dependencies (dynalite, fauxqs), over a table where
 * users do name customers, so a body that slipped through would queue.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';

import { handleNotificationRequest } from '../../lib/notifications/handle-notification-request';
import { countCommands, receiveAll } from '../rigs/aws-kit';
import {
  LOCAL_NOTIFICATIONS_TOKEN,
  notificationRequest,
  NOTIFICATIONS_PATH,
  type NotificationsHarness,
} from '../rigs/notifications-rig';
import { fuzzHttpHandler, httpFuzzRows, type HttpFuzzCounts } from './http-fuzz';
import { formatTable, type TableRow } from './report-table';

type Auth = 'none' | 'wrong-token' | 'other-scheme' | 'empty-bearer' | 'valid';

export interface NotificationFuzzRecipe {
  auth: Auth;
  method: 'POST' | 'GET' | 'PUT';
  path: string;
  generator: string;
  body: Buffer;
}

/** The customer the fuzz table's users name: a merge or deletion of it, well formed, would queue. */
export const FUZZ_CUSTOMER_ID = 1001;

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const VALID_ID = (value: unknown) =>
  (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) ||
  (typeof value === 'string' && /^\d{1,15}$/.test(value) && Number(value) > 0);
/** A customer id the handler must refuse. */
const badId = fc
  .oneof(fc.anything(), fc.constantFrom(0, -1, 1.5, '', 'abc', '1e3', Number.MAX_SAFE_INTEGER + 2, null))
  .filter((value) => !VALID_ID(value));
const identifiers = (id: fc.Arbitrary<unknown>) => fc.oneof(fc.record({ customerId: id }), fc.anything());

const merge = fc
  .record({
    survivor: fc.oneof(badId, fc.constant(FUZZ_CUSTOMER_ID + 1)),
    victim: badId,
    swap: fc.boolean(),
  })
  .map(({ survivor, victim, swap }) => ({
    eventName: 'loyaltyCustomerMerge',
    data: swap
      ? {
          survivorCustomerIdentifiers: { customerId: victim },
          victimCustomerIdentifiers: { customerId: FUZZ_CUSTOMER_ID },
        }
      : { survivorCustomerIdentifiers: { customerId: survivor }, victimCustomerIdentifiers: { customerId: victim } },
    createdAt: 1,
  }));
const deletion = fc.record({
  eventName: fc.constantFrom('requestUpdated', '781_requestUpdated'),
  eventId: fc.string(),
  status: fc.constant('APPROVED'),
  requestType: fc.constant('CUSTOMER'),
  requestBaseType: fc.constant('DELETE'),
  customerId: badId,
});
/** A merge request's outcome (approved or rejected), its fields in `data` as the transaction sample has them. */
const mergeRequestUpdate = fc
  .record({
    status: fc.constantFrom('APPROVED', 'REJECTED', 'approved', ' Rejected '),
    requestTrackingId: fc.oneof(fc.integer(), fc.string()),
    customerId: badId,
  })
  .map(({ customerId, ...request }) => ({
    eventName: 'requestUpdated',
    eventId: 'fuzz',
    data: {
      requestType: 'CHANGE_IDENTIFIER',
      requestBaseType: 'MERGE',
      ...request,
      customerIdentifiers: { customerId },
    },
  }));
const noName = fc.oneof(
  fc.dictionary(
    fc.string().filter((key) => !['eventName', 'eventType', 'attributes', 'data'].includes(key)),
    fc.jsonValue(),
  ),
  fc.record({
    eventName: fc.oneof(
      fc.constant(''),
      fc.constant('   '),
      fc.integer(),
      fc.string({ minLength: 129, maxLength: 200 }),
    ),
  }),
  fc.record({ eventType: fc.oneof(fc.constant(''), fc.integer(), fc.constant(null)), attributes: fc.constant({}) }),
  fc.record({ data: fc.record({ eventName: fc.oneof(fc.constant(''), fc.integer()) }) }),
);

/** Bodies for an authenticated request: each must be refused with a 4xx. */
const bodies: Record<string, fc.Arbitrary<Buffer>> = {
  'random bytes': fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  'random JSON': fc
    .jsonValue({ maxDepth: 4 })
    .filter((value) => !JSON.stringify(value ?? null).match(/eventName|eventType/))
    .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value) || !('data' in value))
    .map(json),
  'truncated JSON': fc
    .constantFrom('{', '[', '{"eventName":', '[{"eventName":"requestUpdated"}')
    .map((text) => Buffer.from(text)),
  'no event name': noName.map(json),
  'merge, malformed customer ids': merge.map(json),
  'merge, customer identifiers not objects': fc
    .record({
      eventName: fc.constant('loyaltyCustomerMerge'),
      data: fc.record({ survivorCustomerIdentifiers: identifiers(badId), victimCustomerIdentifiers: fc.anything() }),
    })
    .map(json),
  'PII deletion, malformed customer id': deletion.map(json),
  'merge request approved or rejected, malformed customer id': mergeRequestUpdate.map(json),
  'array with a bad entry': fc
    .tuple(deletion, fc.oneof(fc.anything(), noName))
    .map(([bad, other]) => json([{ ...bad, customerId: FUZZ_CUSTOMER_ID }, other].reverse())),
  'empty array': fc.constant(json([])),
  oversized: fc
    .integer({ min: 257 * 1024, max: 400 * 1024 })
    .map((size) => json({ eventName: 'requestUpdated', pad: 'x'.repeat(size) })),
};

const recipeFor = (auth: fc.Arbitrary<Auth>, generator: string, body: fc.Arbitrary<Buffer>) =>
  fc.record({
    auth,
    method: fc.oneof(
      { weight: 9, arbitrary: fc.constant('POST' as const) },
      { weight: 1, arbitrary: fc.constantFrom('GET' as const, 'PUT' as const) },
    ),
    path: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(NOTIFICATIONS_PATH, `${NOTIFICATIONS_PATH}/default`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('/capillary', `${NOTIFICATIONS_PATH}/a/b`, `${NOTIFICATIONS_PATH}/ORG!`),
      },
    ),
    generator: fc.constant(generator),
    body,
  });

export const notificationFuzzRecipe: fc.Arbitrary<NotificationFuzzRecipe> = fc.oneof(
  ...Object.entries(bodies).map(([generator, body]) => recipeFor(fc.constant<Auth>('valid'), generator, body)),
  // A well-formed merge of a customer users do name: only its missing or wrong authentication stops it.
  recipeFor(
    fc.constantFrom<Auth>('none', 'wrong-token', 'other-scheme', 'empty-bearer'),
    'unauthenticated, well formed',
    fc.constant(
      json({
        eventName: 'loyaltyCustomerMerge',
        data: {
          survivorCustomerIdentifiers: { customerId: FUZZ_CUSTOMER_ID + 1 },
          victimCustomerIdentifiers: { customerId: FUZZ_CUSTOMER_ID },
        },
      }),
    ),
  ),
);

function requestOf(recipe: NotificationFuzzRecipe): APIGatewayProxyEventV2 {
  const token =
    recipe.auth === 'valid'
      ? LOCAL_NOTIFICATIONS_TOKEN
      : recipe.auth === 'wrong-token'
        ? `${LOCAL_NOTIFICATIONS_TOKEN}x`
        : null;
  const request = notificationRequest(undefined, { token, method: recipe.method, path: recipe.path, raw: recipe.body });
  if (recipe.auth === 'other-scheme') request.headers.authorization = `Basic ${LOCAL_NOTIFICATIONS_TOKEN}`;
  if (recipe.auth === 'empty-bearer') request.headers.authorization = 'Bearer ';
  return request;
}

export interface NotificationFuzzFigures extends HttpFuzzCounts {
  queued: number;
  notificationsRemembered: number;
}

export interface NotificationFuzzReport {
  seed: number;
  figures: NotificationFuzzFigures;
  failure?: string;
}

/** Every answer checked as it comes; fast-check shrinks the first violation. */
export async function runNotificationsFuzz(
  harness: NotificationsHarness,
  { seed, requests, path }: { seed: number; requests: number; path?: string },
): Promise<NotificationFuzzReport> {
  const key = { destination: `U${'f'.repeat(32)}`, userId: `U${'e'.repeat(32)}` };
  const facts = { type: 'follow', webhookEventId: 'FUZZ', timestamp: 1 };
  await harness.users.claim(key, facts);
  await harness.users.complete(key, facts, { customerId: FUZZ_CUSTOMER_ID, linkedCustomerId: FUZZ_CUSTOMER_ID });
  const dynamoCalls = countCommands(harness.dynamo);
  const { counts, failure } = await fuzzHttpHandler(
    notificationFuzzRecipe,
    async (recipe) => (await handleNotificationRequest(requestOf(recipe), harness.deps)).statusCode ?? 200,
    { seed, requests, path },
  );
  const figures: NotificationFuzzFigures = {
    ...counts,
    queued: (await receiveAll(harness.sqs, harness.queue.queueUrl)).length,
    notificationsRemembered: dynamoCalls.get('PutItemCommand') ?? 0,
  };
  return { seed, figures, failure };
}

export function formatNotificationsFuzzReport({ seed, figures }: NotificationFuzzReport): string {
  const rows: TableRow[] = [
    ...httpFuzzRows(figures),
    ['events queued', figures.queued],
    ['notifications remembered', figures.notificationsRemembered],
  ];
  return formatTable(`Capillary notifications fuzzing: seed ${seed}`, rows);
}
