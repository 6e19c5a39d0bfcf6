/**
 * Webhook requests a fuzzer sends, as small recipes fast-check can generate and shrink (a 1.2 MiB body
 * is a size, not a string, until it is built). Each recipe says which generator made it; building one
 * gives the API Gateway event and what the sender knew: a request is forged when the sender never had
 * the HMAC of the exact bytes the webhook will verify.
 */
import { createHmac } from 'node:crypto';

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';

import type { LineWebhookEvent } from '../../lib/line/callback';
import { toApiGatewayV2Event } from '../lambda-events';
import { DESTINATION, followEvent, lineUserId, textMessageEvent, unfollowEvent } from '../line-event-factory';
import { webhookPathFor } from '../sample-events';

export const MAX_BODY_BYTES = 1024 * 1024;

type HeaderValue = 'valid' | 'wrong';

export type SignatureRecipe =
  | { kind: 'valid' }
  /** accepted spellings of the valid signature (the SDK's base64 decoding is lenient) */
  | { kind: 'valid-spelling'; spelling: 'unpadded' | 'trailing-junk' | 'spaces' }
  | { kind: 'header-casing'; name: 'X-Line-Signature' | 'X-LINE-SIGNATURE' }
  /** a header sent twice: API Gateway joins the values with a comma */
  | { kind: 'repeated-header'; values: [HeaderValue, HeaderValue] }
  /** two keys differing only in case */
  | { kind: 'two-casings'; lower: HeaderValue; upper: HeaderValue }
  | { kind: 'missing' }
  | { kind: 'empty' }
  | { kind: 'wrong-secret' }
  | { kind: 'bit-flip'; bit: number }
  | { kind: 'random'; bytes: number[] }
  | { kind: 'of-other-bytes' };

export type ShapeMutation = (typeof SHAPE_MUTATIONS)[number];

export type BodyRecipe =
  | { kind: 'callback'; events: number }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'text'; text: string }
  | { kind: 'truncated'; events: number; keepFraction: number }
  | { kind: 'nested'; depth: number; container: 'array' | 'object'; at: 'root' | 'events' | 'event-field' }
  | { kind: 'huge'; bytes: number; filler: 'ascii' | 'multibyte' }
  | { kind: 'oversized-event'; textBytes: number }
  | { kind: 'many-events'; count: number }
  | { kind: 'shape'; mutation: ShapeMutation }
  | { kind: 'unicode'; text: string; escaped: boolean }
  | { kind: 'invalid-utf8'; bytes: number[] };

/** How API Gateway hands over the body, and whether isBase64Encoded tells the truth. */
export type Transport = 'text' | 'base64' | 'text-claimed-base64' | 'base64-claimed-text';

/** The channel whose secret signs every request, and another one the fuzzed webhook also serves. */
export const FUZZ_CHANNEL = 'default';
export const OTHER_FUZZ_CHANNEL = 'other';

/**
 * Where the request is posted: the signing channel's URL (`/line/webhook`, or `/line/webhook/default`),
 * another served channel's URL (its secret is not the one that signed), or a channel the webhook does not serve.
 */
export type RouteRecipe =
  { kind: 'plain' } | { kind: 'by-id' } | { kind: 'other-channel' } | { kind: 'unknown'; channel: string };

export interface FuzzRecipe {
  generator: string;
  body: BodyRecipe;
  signature: SignatureRecipe;
  transport: Transport;
  route: RouteRecipe;
  /** SQS refuses every call while this request is handled */
  queueDown: boolean;
}

export interface BuiltRequest {
  event: APIGatewayProxyEventV2;
  /** the sender had the HMAC of the bytes the webhook verifies (alone or next to a wrong one) */
  signed: boolean;
  /** the bytes the webhook verifies are over the limit */
  oversized: boolean;
  /** the status a correct webhook must answer when the request carries just the valid signature and the recipe fixes it */
  expectedSignedStatus?: 200 | 400 | 413;
  /** LINE events in a well-formed body */
  events: number;
  /** posted to a channel the webhook does not serve: 404, whatever the rest */
  unknownChannel: boolean;
}

const SHAPE_MUTATIONS = [
  'root-array',
  'root-string',
  'root-null',
  'root-number',
  'destination-missing',
  'destination-number',
  'destination-empty',
  'destination-too-long',
  'destination-space',
  'destination-non-ascii',
  'events-missing',
  'events-null',
  'events-object',
  'events-string',
  'event-null',
  'event-array',
  'type-missing',
  'type-empty',
  'type-number',
  'id-missing',
  'id-empty',
  'id-too-long',
  'id-space',
  'id-non-ascii',
  'timestamp-missing',
  'timestamp-negative',
  'timestamp-fraction',
  'timestamp-string',
  'timestamp-unsafe',
  'source-string',
  'source-without-type',
  'user-id-number',
  'user-id-empty',
  'user-id-non-ascii',
] as const;

/** Strings that have broken JSON, UTF-8 and SQS handling elsewhere. */
const UNICODE_EDGES = [
  '\u0000',
  '\u0001\u001f',
  '\ud800',
  '\udc00',
  '\udbff\udfff',
  '😀',
  '👩‍👩‍👧‍👦',
  '\ufffe',
  '\uffff',
  '\ufeff',
  '\u202e\u2066',
  'e\u0301',
  'ｔｅｓｔ',
  '𝕏',
  '\u2028\u2029',
  '"\\/\b\f\n\r\t',
  '</script>',
  '\\u0000',
  'สวัสดี',
  'こんにちは',
  '\u0085\u00a0',
];

function lineEvents(count: number): LineWebhookEvent[] {
  return Array.from({ length: count }, (_, index) => {
    const userId = lineUserId();
    const timestamp = 1_700_000_000_000 + index;
    return [followEvent, unfollowEvent, textMessageEvent][index % 3]!(userId, timestamp);
  });
}

const callback = (events: LineWebhookEvent[], extra: Record<string, unknown> = {}) => ({
  destination: DESTINATION,
  events,
  ...extra,
});

function mutatedShape(mutation: ShapeMutation): unknown {
  const event = lineEvents(1)[0] as Record<string, unknown>;
  const withEvent = (changes: Record<string, unknown>) => callback([{ ...event, ...changes } as LineWebhookEvent]);
  const without = (field: string) =>
    callback([Object.fromEntries(Object.entries(event).filter(([name]) => name !== field)) as LineWebhookEvent]);
  const source = event.source as Record<string, unknown>;
  const body: Record<ShapeMutation, () => unknown> = {
    'root-array': () => [callback([])],
    'root-string': () => 'events',
    'root-null': () => null,
    'root-number': () => 42,
    'destination-missing': () => ({ events: [] }),
    'destination-number': () => ({ destination: 7, events: [] }),
    'destination-empty': () => ({ destination: '', events: [] }),
    'destination-too-long': () => ({ destination: `U${'a'.repeat(128)}`, events: [] }),
    'destination-space': () => ({ destination: 'U 1', events: [] }),
    'destination-non-ascii': () => ({ destination: 'Ü1f2e3', events: [] }),
    'events-missing': () => ({ destination: DESTINATION }),
    'events-null': () => ({ destination: DESTINATION, events: null }),
    'events-object': () => ({ destination: DESTINATION, events: { 0: event } }),
    'events-string': () => ({ destination: DESTINATION, events: '[]' }),
    'event-null': () => callback([null as unknown as LineWebhookEvent]),
    'event-array': () => callback([[event] as unknown as LineWebhookEvent]),
    'type-missing': () => without('type'),
    'type-empty': () => withEvent({ type: '' }),
    'type-number': () => withEvent({ type: 1 }),
    'id-missing': () => without('webhookEventId'),
    'id-empty': () => withEvent({ webhookEventId: '' }),
    'id-too-long': () => withEvent({ webhookEventId: 'X'.repeat(129) }),
    'id-space': () => withEvent({ webhookEventId: '01 TEST' }),
    'id-non-ascii': () => withEvent({ webhookEventId: '01TESTÜ' }),
    'timestamp-missing': () => without('timestamp'),
    'timestamp-negative': () => withEvent({ timestamp: -1 }),
    'timestamp-fraction': () => withEvent({ timestamp: 1.5 }),
    'timestamp-string': () => withEvent({ timestamp: '1700000000000' }),
    'timestamp-unsafe': () => withEvent({ timestamp: 2 ** 53 }),
    'source-string': () => withEvent({ source: 'user' }),
    'source-without-type': () => withEvent({ source: { userId: source.userId } }),
    'user-id-number': () => withEvent({ source: { type: 'user', userId: 5 } }),
    'user-id-empty': () => withEvent({ source: { type: 'user', userId: '' } }),
    'user-id-non-ascii': () => withEvent({ source: { type: 'user', userId: 'Uü' } }),
  };
  return body[mutation]();
}

function nestedJson(depth: number, container: 'array' | 'object'): string {
  return container === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const escapeNonAscii = (json: string) =>
  json.replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

interface Body {
  bytes: Buffer;
  events: number;
  expectedSignedStatus?: 200 | 400 | 413;
}

const jsonBody = (value: unknown, events: number, expectedSignedStatus?: 200 | 400 | 413): Body => ({
  bytes: Buffer.from(JSON.stringify(value), 'utf8'),
  events,
  expectedSignedStatus,
});

function buildBody(recipe: BodyRecipe): Body {
  switch (recipe.kind) {
    case 'callback':
      return jsonBody(callback(lineEvents(recipe.events)), recipe.events, 200);
    case 'bytes':
      return { bytes: Buffer.from(recipe.bytes), events: 0 };
    case 'text':
      return { bytes: Buffer.from(recipe.text, 'utf8'), events: 0 };
    case 'truncated': {
      const whole = Buffer.from(JSON.stringify(callback(lineEvents(recipe.events))), 'utf8');
      return {
        bytes: whole.subarray(0, Math.floor(whole.length * recipe.keepFraction)),
        events: 0,
        expectedSignedStatus: 400,
      };
    }
    case 'nested': {
      const nested = nestedJson(recipe.depth, recipe.container);
      const [event] = lineEvents(1);
      const text = {
        root: nested,
        events: `{"destination":"${DESTINATION}","events":${nested}}`,
        'event-field': JSON.stringify(callback([{ ...event!, nested: 0 }])).replace('"nested":0', `"nested":${nested}`),
      }[recipe.at];
      // Deep nesting inside an event is still a valid event; anywhere else it breaks the shape.
      return recipe.at === 'event-field'
        ? { bytes: Buffer.from(text, 'utf8'), events: 1 }
        : { bytes: Buffer.from(text, 'utf8'), events: 0, expectedSignedStatus: 400 };
    }
    case 'huge': {
      const filler = recipe.filler === 'ascii' ? 'x' : 'é'; // 'é' is two UTF-8 bytes
      const skeleton = JSON.stringify(callback(lineEvents(1), { padding: '' }));
      const fill = Math.max(0, Math.floor((recipe.bytes - Buffer.byteLength(skeleton)) / Buffer.byteLength(filler)));
      return jsonBody(callback(lineEvents(1), { padding: filler.repeat(fill) }), 1, 200); // when not over the limit
    }
    case 'oversized-event': {
      const [event] = lineEvents(1);
      return jsonBody(callback([{ ...event!, note: 'x'.repeat(recipe.textBytes) }]), 1, 413);
    }
    case 'many-events':
      return jsonBody(callback(lineEvents(recipe.count)), recipe.count, 200);
    case 'shape':
      return jsonBody(mutatedShape(recipe.mutation), 0, 400);
    case 'unicode': {
      const [message, follow] = lineEvents(3).reverse() as [LineWebhookEvent, LineWebhookEvent];
      const value = callback([
        { ...message, message: { type: 'text', id: '1', text: recipe.text } },
        { ...follow, unknownField: recipe.text },
      ]);
      const json = JSON.stringify(value);
      return {
        bytes: Buffer.from(recipe.escaped ? escapeNonAscii(json) : json, 'utf8'),
        events: 2,
        expectedSignedStatus: 200,
      };
    }
    case 'invalid-utf8': {
      const json = JSON.stringify(callback([{ ...lineEvents(1)[0]!, note: '@' }]));
      const at = json.indexOf('@');
      const bytes = Buffer.concat([
        Buffer.from(json.slice(0, at)),
        Buffer.from(recipe.bytes),
        Buffer.from(json.slice(at + 1)),
      ]);
      return { bytes, events: 1, expectedSignedStatus: 200 };
    }
  }
}

const hmac = (bytes: Buffer, secret: string) => createHmac('sha256', secret).update(bytes).digest();

/** Whether the sender had the valid MAC: alone, next to a wrong one (which one counts is the webhook's choice), or not at all. */
type MacKnowledge = 'valid' | 'mixed' | 'forged';

function signatureHeaders(
  recipe: SignatureRecipe,
  sentBytes: Buffer,
  secret: string,
): { headers: Record<string, string>; mac: MacKnowledge } {
  const valid = hmac(sentBytes, secret).toString('base64');
  const wrong = hmac(sentBytes, `${secret}-wrong`).toString('base64');
  const pick = (value: HeaderValue) => (value === 'valid' ? valid : wrong);
  const knowledgeOf = (values: HeaderValue[]): MacKnowledge =>
    !values.includes('valid') ? 'forged' : values.includes('wrong') ? 'mixed' : 'valid';
  const header = (value: string) => ({ 'x-line-signature': value });
  const forged = (value: string) => ({ headers: header(value), mac: 'forged' as const });
  switch (recipe.kind) {
    case 'valid':
      return { headers: header(valid), mac: 'valid' };
    case 'valid-spelling':
      return {
        headers: header(
          { unpadded: valid.replace(/=+$/, ''), 'trailing-junk': `${valid}!!`, spaces: ` ${valid} ` }[recipe.spelling],
        ),
        mac: 'valid',
      };
    case 'header-casing':
      return { headers: { [recipe.name]: valid }, mac: 'valid' };
    case 'repeated-header':
      return {
        headers: header(recipe.values.map(pick).join(',')),
        mac: knowledgeOf(recipe.values) === 'valid' ? 'mixed' : knowledgeOf(recipe.values),
      };
    case 'two-casings':
      return {
        headers: { 'x-line-signature': pick(recipe.lower), 'X-Line-Signature': pick(recipe.upper) },
        mac: knowledgeOf([recipe.lower, recipe.upper]),
      };
    case 'missing':
      return { headers: {}, mac: 'forged' };
    case 'empty':
      return forged('');
    case 'wrong-secret':
      return forged(wrong);
    case 'bit-flip': {
      const flipped = Buffer.from(valid, 'base64');
      flipped[recipe.bit >> 3]! ^= 1 << (recipe.bit & 7);
      return forged(flipped.toString('base64'));
    }
    case 'random':
      return forged(Buffer.from(recipe.bytes).toString('base64'));
    case 'of-other-bytes':
      return forged(hmac(Buffer.concat([sentBytes, Buffer.from(' ')]), secret).toString('base64'));
  }
}

/** The body string API Gateway puts in the event, and the bytes the webhook will decode from it. */
function encodeBody(
  bytes: Buffer,
  transport: Transport,
): { body: string; isBase64Encoded: boolean; verifiedBytes: Buffer } {
  const asText = bytes.toString('utf8');
  const asBase64 = bytes.toString('base64');
  switch (transport) {
    case 'text':
      return { body: asText, isBase64Encoded: false, verifiedBytes: Buffer.from(asText, 'utf8') };
    case 'base64':
      return { body: asBase64, isBase64Encoded: true, verifiedBytes: bytes };
    case 'text-claimed-base64':
      return { body: asText, isBase64Encoded: true, verifiedBytes: Buffer.from(asText, 'base64') };
    case 'base64-claimed-text':
      return { body: asBase64, isBase64Encoded: false, verifiedBytes: Buffer.from(asBase64, 'utf8') };
  }
}

function routePath(route: RouteRecipe): string {
  switch (route.kind) {
    case 'plain':
      return webhookPathFor(undefined);
    case 'by-id':
      return webhookPathFor(FUZZ_CHANNEL);
    case 'other-channel':
      return webhookPathFor(OTHER_FUZZ_CHANNEL);
    case 'unknown':
      return webhookPathFor(route.channel);
  }
}

/** `secret` is the signing channel's (FUZZ_CHANNEL); the other channel has another. */
export function buildFuzzRequest(recipe: FuzzRecipe, secret: string): BuiltRequest {
  const body = buildBody(recipe.body);
  const { headers, mac: signedMac } = signatureHeaders(recipe.signature, body.bytes, secret);
  // The other channel's webhook verifies with its own secret: a MAC made with this one is a forgery there.
  const mac = recipe.route.kind === 'other-channel' ? 'forged' : signedMac;
  const encoded = encodeBody(body.bytes, recipe.transport);
  const event = toApiGatewayV2Event({
    method: 'POST',
    path: routePath(recipe.route),
    headers: { 'content-type': 'application/json' },
    body: Buffer.alloc(0),
  });
  // The header names as the recipe spells them (API Gateway v2 would lower-case them; other front doors do not).
  event.headers = { 'content-type': 'application/json', ...headers };
  event.body = encoded.body;
  event.isBase64Encoded = encoded.isBase64Encoded;
  const encodedLimit = encoded.isBase64Encoded ? Math.ceil(MAX_BODY_BYTES / 3) * 4 : MAX_BODY_BYTES;
  // A signature over the bytes sent only helps if those are the bytes verified (the flag can lie).
  const verifiesSentBytes = encoded.verifiedBytes.equals(body.bytes);
  return {
    event,
    signed: mac !== 'forged' && verifiesSentBytes,
    oversized: encoded.verifiedBytes.length > MAX_BODY_BYTES || encoded.body.length > encodedLimit,
    expectedSignedStatus: mac === 'valid' && verifiesSentBytes ? body.expectedSignedStatus : undefined,
    events: body.events,
    unknownChannel: recipe.route.kind === 'unknown',
  };
}

const validSignature = fc.constant<SignatureRecipe>({ kind: 'valid' });
const forgedSignature: fc.Arbitrary<SignatureRecipe> = fc.oneof(
  fc.constant({ kind: 'missing' as const }),
  fc.constant({ kind: 'empty' as const }),
  fc.constant({ kind: 'wrong-secret' as const }),
  fc.integer({ min: 0, max: 255 }).map((bit) => ({ kind: 'bit-flip' as const, bit })),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 48 }).map((bytes) => ({ kind: 'random' as const, bytes })),
  fc.constant({ kind: 'of-other-bytes' as const }),
);
const headerValue = fc.constantFrom<HeaderValue>('valid', 'wrong');
const anySignature = fc.oneof(
  validSignature,
  forgedSignature,
  fc
    .constantFrom('unpadded', 'trailing-junk', 'spaces')
    .map((spelling) => ({ kind: 'valid-spelling' as const, spelling })),
  fc.constantFrom('X-Line-Signature', 'X-LINE-SIGNATURE').map((name) => ({ kind: 'header-casing' as const, name })),
  fc.tuple(headerValue, headerValue).map((values) => ({ kind: 'repeated-header' as const, values })),
  fc.record({ lower: headerValue, upper: headerValue }).map((values) => ({ kind: 'two-casings' as const, ...values })),
);
const mostlySigned = fc.oneof({ weight: 3, arbitrary: validSignature }, { weight: 1, arbitrary: forgedSignature });
const honestTransport = fc.constantFrom<Transport>('text', 'base64');

const ownRoute = fc.constantFrom<RouteRecipe>({ kind: 'plain' }, { kind: 'by-id' });
/** Path segments a caller may try: ids of other brands, look-alikes, traversal, encodings, anything (never a served id). */
const unknownChannelRoute: fc.Arbitrary<RouteRecipe> = fc
  .oneof(
    fc.constantFrom('jp', 'Default', 'default ', 'other-', '..', '%2e%2e', '__proto__', 'constructor', 'x'.repeat(300)),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  )
  .filter((channel) => channel !== FUZZ_CHANNEL && channel !== OTHER_FUZZ_CHANNEL)
  .map((channel) => ({ kind: 'unknown' as const, channel }));

function generator(
  name: string,
  body: fc.Arbitrary<BodyRecipe>,
  signature: fc.Arbitrary<SignatureRecipe>,
  transport: fc.Arbitrary<Transport> = honestTransport,
  queueDown = false,
  route: fc.Arbitrary<RouteRecipe> = ownRoute,
): fc.Arbitrary<FuzzRecipe> {
  return fc.record({ body, signature, transport, route }).map((parts) => ({ generator: name, queueDown, ...parts }));
}

const eventCount = fc.integer({ min: 0, max: 5 });

/** Weighted (per mille) so that most requests are cheap; huge bodies and a refusing queue are rare. */
export const fuzzRecipe: fc.Arbitrary<FuzzRecipe> = fc.oneof(
  {
    weight: 100,
    arbitrary: generator(
      'random bytes',
      fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
      anySignature,
    ),
  },
  {
    weight: 100,
    arbitrary: generator(
      'random text',
      fc.string({ unit: 'binary', maxLength: 512 }).map((text) => ({ kind: 'text' as const, text })),
      anySignature,
    ),
  },
  {
    weight: 100,
    arbitrary: generator(
      'truncated JSON',
      fc.record({
        kind: fc.constant('truncated' as const),
        events: fc.integer({ min: 1, max: 4 }),
        keepFraction: fc.double({ min: 0, max: 0.999, noNaN: true }),
      }),
      mostlySigned,
    ),
  },
  {
    weight: 60,
    arbitrary: generator(
      'deeply nested JSON',
      fc.record({
        kind: fc.constant('nested' as const),
        depth: fc.oneof(fc.integer({ min: 2, max: 2000 }), fc.integer({ min: 2000, max: 200_000 })),
        container: fc.constantFrom('array' as const, 'object' as const),
        at: fc.constantFrom('root' as const, 'events' as const, 'event-field' as const),
      }),
      mostlySigned,
    ),
  },
  {
    weight: 10,
    arbitrary: generator(
      'huge body',
      fc.record({
        kind: fc.constant('huge' as const),
        bytes: fc.integer({ min: MAX_BODY_BYTES - 64, max: MAX_BODY_BYTES + 512 * 1024 }),
        filler: fc.constantFrom('ascii' as const, 'multibyte' as const),
      }),
      anySignature,
    ),
  },
  {
    weight: 10,
    arbitrary: generator(
      'oversized event',
      fc
        .integer({ min: 256 * 1024, max: 512 * 1024 })
        .map((textBytes) => ({ kind: 'oversized-event' as const, textBytes })),
      validSignature,
    ),
  },
  {
    weight: 100,
    arbitrary: generator(
      'signature headers',
      eventCount.map((events) => ({ kind: 'callback' as const, events })),
      anySignature,
    ),
  },
  {
    weight: 60,
    arbitrary: generator(
      'base64 flag lies',
      eventCount.map((events) => ({ kind: 'callback' as const, events })),
      validSignature,
      fc.constantFrom<Transport>('text-claimed-base64', 'base64-claimed-text'),
    ),
  },
  {
    weight: 120,
    arbitrary: generator(
      'valid signature, invalid shape',
      fc.constantFrom(...SHAPE_MUTATIONS).map((mutation) => ({ kind: 'shape' as const, mutation })),
      validSignature,
    ),
  },
  {
    weight: 100,
    arbitrary: generator(
      'unicode and escapes',
      fc.record({
        kind: fc.constant('unicode' as const),
        text: fc.oneof(
          fc.constantFrom(...UNICODE_EDGES),
          fc.string({ unit: 'binary', maxLength: 64 }),
          fc.string({ unit: 'grapheme', maxLength: 64 }),
        ),
        escaped: fc.boolean(),
      }),
      validSignature,
    ),
  },
  {
    weight: 40,
    arbitrary: generator(
      'invalid UTF-8',
      fc
        .array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 8 })
        .map((bytes) => ({ kind: 'invalid-utf8' as const, bytes })),
      validSignature,
      fc.constant<Transport>('base64'),
    ),
  },
  {
    weight: 5,
    arbitrary: generator(
      'many events',
      fc.integer({ min: 6, max: 200 }).map((count) => ({ kind: 'many-events' as const, count })),
      validSignature,
    ),
  },
  {
    weight: 60,
    arbitrary: generator(
      'valid',
      eventCount.map((events) => ({ kind: 'callback' as const, events })),
      validSignature,
    ),
  },
  {
    weight: 60,
    arbitrary: generator(
      "another channel's URL",
      eventCount.map((events) => ({ kind: 'callback' as const, events })),
      validSignature,
      honestTransport,
      false,
      fc.constant<RouteRecipe>({ kind: 'other-channel' }),
    ),
  },
  {
    weight: 40,
    arbitrary: generator(
      'unknown channel',
      eventCount.map((events) => ({ kind: 'callback' as const, events })),
      anySignature,
      honestTransport,
      false,
      unknownChannelRoute,
    ),
  },
  {
    weight: 1,
    arbitrary: generator(
      'queue down',
      fc.integer({ min: 1, max: 3 }).map((events) => ({ kind: 'callback' as const, events })),
      validSignature,
      honestTransport,
      true,
    ),
  },
);
