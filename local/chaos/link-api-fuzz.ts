/**
 * Fuzzes the real link API handler (lib/link-api) with fast-check: unauthenticated requests (no token,
 * wrong tokens, other schemes), and authenticated requests whose bodies are malformed: random bytes,
 * random JSON, the right fields with wrong values, link tokens the bridge never issued, ID tokens LINE
 * refuses, unlinks of users nobody linked. Every answer must be a 4xx naming the problem, nothing may be
 * queued, and no nonce may be stored. The handler runs with its real dependencies (dynalite, fauxqs,
 * the LINE stand-in).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';

import { handleLinkRequest, LINK_API_ROUTES } from '../../lib/link-api/handle-link-request';
import { countCommands, receiveAll } from '../rigs/aws-kit';
import { linkApiRequest, LOCAL_LINK_API_TOKEN, type LinkApiHarness } from '../rigs/link-api-rig';
import { fuzzHttpHandler, httpFuzzRows, type HttpFuzzCounts } from './http-fuzz';
import { formatTable, type TableRow } from './report-table';

type Auth = 'none' | 'wrong-token' | 'other-scheme' | 'empty-bearer' | 'valid';

export interface LinkFuzzRecipe {
  auth: Auth;
  method: 'POST' | 'GET' | 'PUT';
  path: string;
  generator: string;
  body: Buffer;
}

const USER_ID = /^U[0-9a-f]{32}$/;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** A customer reference that is malformed, or well-formed but of nobody linked. */
const customer = fc.oneof(
  fc.constant(undefined),
  fc.anything(),
  fc.record({ mobile: fc.oneof(fc.string(), fc.integer(), fc.constant('+66 81 234 5678')) }),
  fc.record({ email: fc.oneof(fc.string(), fc.constant('no-at-sign')) }),
  fc.record({ customerId: fc.oneof(fc.string(), fc.double(), fc.constant(-1), fc.constant(0)) }),
  fc.record({ mobile: fc.constant('66812345678'), email: fc.constant('a@example.com') }),
  fc.record({ externalId: fc.string({ maxLength: 300 }) }),
);

/** Bodies for an authenticated request: each must be refused with a 4xx. */
const bodies: Record<string, fc.Arbitrary<Buffer>> = {
  'random bytes': fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  'random JSON': fc.jsonValue({ maxDepth: 4 }).map(json),
  'truncated JSON': fc
    .jsonValue({ maxDepth: 3 })
    .map((value) => Buffer.from(JSON.stringify({ linkToken: 'x', value }).slice(0, -1))),
  'nonce, unknown link token': fc
    .record({
      linkToken: fc.oneof(fc.string({ minLength: 1 }), fc.anything()),
      customer,
      channel: fc.option(fc.string(), { nil: undefined }),
    })
    .map(json),
  'id-token, refused token': fc.record({ idToken: fc.oneof(fc.string(), fc.anything()), customer }).map(json),
  'unlink, malformed or nobody linked': fc
    .oneof(
      fc.record({
        userId: fc.oneof(
          fc.string().filter((id) => !USER_ID.test(id)),
          fc.anything().filter((id) => typeof id !== 'string'),
        ),
      }),
      fc.record({ customer: customer.filter((c) => c !== undefined) }),
      fc.record({ userId: fc.constant(`U${'a'.repeat(32)}`), customer: fc.constant({ mobile: '66812345678' }) }),
    )
    .map(json),
  oversized: fc
    .integer({ min: 17 * 1024, max: 64 * 1024 })
    .map((size) => json({ linkToken: 'x'.repeat(size), customer: { mobile: '66812345678' } })),
};

export const linkFuzzRecipe: fc.Arbitrary<LinkFuzzRecipe> = fc.oneof(
  ...Object.entries(bodies).map(([generator, body]) =>
    fc.record({
      auth: fc.oneof(
        { weight: 3, arbitrary: fc.constant<Auth>('valid') },
        { weight: 2, arbitrary: fc.constantFrom<Auth>('none', 'wrong-token', 'other-scheme', 'empty-bearer') },
      ),
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant('POST' as const) },
        { weight: 1, arbitrary: fc.constantFrom('GET' as const, 'PUT' as const) },
      ),
      path: fc.oneof(
        { weight: 9, arbitrary: fc.constantFrom(...LINK_API_ROUTES) },
        { weight: 1, arbitrary: fc.constantFrom('/line/link', '/line/link/nonce/', '/line/link/NONCE') },
      ),
      generator: fc.constant(generator),
      body,
    }),
  ),
);

function requestOf(recipe: LinkFuzzRecipe): APIGatewayProxyEventV2 {
  const token =
    recipe.auth === 'valid' ? LOCAL_LINK_API_TOKEN : recipe.auth === 'wrong-token' ? `${LOCAL_LINK_API_TOKEN}x` : null;
  const request = linkApiRequest(recipe.path, undefined, { token, method: recipe.method, raw: recipe.body });
  if (recipe.auth === 'other-scheme') request.headers.authorization = `Basic ${LOCAL_LINK_API_TOKEN}`;
  if (recipe.auth === 'empty-bearer') request.headers.authorization = 'Bearer ';
  return request;
}

export interface LinkFuzzFigures extends HttpFuzzCounts {
  queued: number;
  noncesStored: number;
}

export interface LinkFuzzReport {
  seed: number;
  figures: LinkFuzzFigures;
  failure?: string;
}

/** Every answer checked as it comes; fast-check shrinks the first violation. */
export async function runLinkApiFuzz(
  harness: LinkApiHarness,
  { seed, requests, path }: { seed: number; requests: number; path?: string },
): Promise<LinkFuzzReport> {
  const dynamoCalls = countCommands(harness.dynamo);
  const { counts, failure } = await fuzzHttpHandler(
    linkFuzzRecipe,
    async (recipe) => (await handleLinkRequest(requestOf(recipe), harness.deps)).statusCode ?? 200,
    { seed, requests, path },
  );
  const figures: LinkFuzzFigures = {
    ...counts,
    queued: (await receiveAll(harness.sqs, harness.queue.queueUrl)).length,
    noncesStored: dynamoCalls.get('PutItemCommand') ?? 0,
  };
  return { seed, figures, failure };
}

export function formatLinkFuzzReport({ seed, figures }: LinkFuzzReport): string {
  const rows: TableRow[] = [
    ...httpFuzzRows(figures),
    ['events queued', figures.queued],
    ['nonces stored', figures.noncesStored],
  ];
  return formatTable(`Link API fuzzing: seed ${seed}`, rows);
}
