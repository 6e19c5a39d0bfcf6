/**
 * Plumbing shared by the local stand-ins for the SaaS APIs the bridge calls (Capillary, LINE): a JSON
 * HTTP server on 127.0.0.1 plus the controls tests need to make those APIs misbehave on purpose
 * (injected faults, added latency), to see what the bridge sent (call log) and to drive everything
 * from another process (`/__admin/*`). A stand-in only supplies its routes, its error body and its state.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { isRecord } from '../../lib/is-record';
import { maskUserId } from '../../lib/observability/telemetry';

export type Clock = () => number;

export interface StandInRequest {
  method: string;
  /** pathname only; the query string is in `query` */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** parsed JSON (or the fields of a form-encoded body), undefined when the request had no body */
  body: unknown;
}

export interface StandInReply {
  status: number;
  body: unknown;
}

export type RouteHandler = (request: StandInRequest, params: string[]) => StandInReply | Promise<StandInReply>;

export interface Route {
  method: string;
  /** matched against the pathname; capture groups become `params` */
  pattern: RegExp;
  handle: RouteHandler;
}

/** How an API words a request-level failure (Capillary: an `errors[]` envelope, LINE: `{ message }`). */
export type ErrorBodyFormat = (status: number, message: string) => unknown;

/** Transient failures, and the refusals a misconfiguration meets (a revoked token, an account the API does not know). */
const FAULT_STATUSES = [400, 401, 403, 404, 429, 461, 500, 502, 503, 504, 521] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];

interface FaultTarget {
  /** how many matching requests the rule answers before it is used up */
  times: number;
  /** only requests with this method (any method when absent) */
  method?: string;
  /** only requests whose pathname starts with this (every path when absent) */
  pathPrefix?: string;
  /** let this many matching requests through first (e.g. fail only the second page of a listing) */
  skip?: number;
}

/** Answer with this status instead of running the operation; `code` is the error code the body carries (the status when absent). */
export type StatusFaultRule = FaultTarget & { status: FaultStatus; code?: number };
/** Hold the request for `delayMs`, then answer 504; the operation does not run (a client timeout). */
export type TimeoutFaultRule = FaultTarget & { kind: 'timeout'; delayMs: number };
/**
 * Run the operation, then lose its answer: a 504 or a reset connection. The client cannot tell the
 * work was done, so its retry meets the consequences (e.g. Capillary's 8006 "already exists").
 */
export type LostResponseFaultRule = FaultTarget & {
  kind: 'lost-response';
  reply?: 'gateway-timeout' | 'connection-reset';
};
export type FaultRule = StatusFaultRule | TimeoutFaultRule | LostResponseFaultRule;
/** `late`: not a fault rule but the transit bound (BaseSettings.maxTransitMs): the request is not run. */
export type FaultKind = 'status' | 'timeout' | 'lost-response' | 'late';

export interface CallRecord {
  seq: number;
  time: string;
  method: string;
  /** pathname and query, LINE user ids masked */
  path: string;
  /** null when no answer was sent (connection reset, or the client gave up first) */
  status: number | null;
  errorCodes: number[];
  warningCodes: number[];
  /** the request body as JSON, LINE user ids masked, truncated */
  requestBody?: string;
  fault?: FaultKind;
  /** how long the request took to reach the handler, from its `x-sent-at` header (the chaos rig's clients stamp it) */
  transitMs?: number;
}

export interface BaseSettings {
  latencyMs: number;
  /**
   * A request that reaches the handler more than this long after its client sent it (`x-sent-at`, epoch ms) is
   * not run, and answered 504 to nobody: the client gave up long before, as a front end drops such a request. The
   * chaos rig sets it to the bridge's margin (claim TTL − function timeout); one busy process can hold a request
   * far longer, which no deployed API does. null: no bound.
   */
  maxTransitMs: number | null;
}

export interface StandInDefinition<S extends BaseSettings> {
  port: number;
  /** response header carrying a fresh id per call, as the real API does */
  requestIdHeader: string;
  settings: StandInSettings<S>;
  clock: Clock;
  errorBody: ErrorBodyFormat;
  routes: readonly Route[];
  /** GET /__admin/state */
  snapshot(): unknown;
  /** forget the API's own state (faults, calls and settings are reset by the kit) */
  resetState(): void;
  /** extra admin routes keyed like "POST /__admin/profiles"; they get the parsed body */
  adminRoutes?: Record<string, (body: unknown) => unknown>;
}

export interface StandInServer<S extends BaseSettings> {
  url: string;
  port: number;
  injectFault(rule: FaultRule): void;
  configure(patch: Partial<S>): void;
  calls(): CallRecord[];
  /** API state, faults, calls and settings back to how the server started */
  reset(): void;
  close(): Promise<void>;
}

export class InvalidAdminRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAdminRequestError';
  }
}

/** A request body the stand-in refuses before any route sees it. */
class RequestBodyError extends Error {
  constructor(
    message: string,
    public readonly status: 400 | 413,
  ) {
    super(message);
    this.name = 'RequestBodyError';
  }
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const LOGGED_BODY_CHARS = 300;
const LINE_USER_ID = /U[0-9a-f]{32}/g;

/** The call log is a log: LINE user ids appear only as the hash the bridge's own logs use. */
function maskLineUserIds(text: string): string {
  return text.replace(LINE_USER_ID, (userId) => maskUserId(userId) ?? '');
}

/** Settings a test may change while the server runs; `reset` restores the starting values. */
export class StandInSettings<S extends BaseSettings> {
  #current: S;

  constructor(private readonly initial: S) {
    this.#current = { ...initial };
  }

  get current(): Readonly<S> {
    return this.#current;
  }

  /**
   * A switch stays a boolean; every other value is a non-negative number, and null (JSON for "none") is allowed
   * for anything but latencyMs.
   */
  update(patch: Partial<S>): void {
    for (const [name, value] of Object.entries(patch)) {
      if (!(name in this.initial)) throw new InvalidAdminRequestError(`unknown setting "${name}"`);
      if (typeof (this.initial as Record<string, unknown>)[name] === 'boolean') {
        if (typeof value !== 'boolean') throw new InvalidAdminRequestError(`setting "${name}" must be true or false`);
        continue;
      }
      const allowsNone = name !== 'latencyMs' && value === null;
      if (!allowsNone && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
        throw new InvalidAdminRequestError(
          `setting "${name}" must be a non-negative number${name === 'latencyMs' ? '' : ' or null'}`,
        );
      }
    }
    this.#current = { ...this.#current, ...patch };
  }

  restore(): void {
    this.#current = { ...this.initial };
  }
}

function parseFaultRule(value: unknown): FaultRule {
  if (!isRecord(value)) throw new InvalidAdminRequestError('a fault rule must be an object');
  const target = parseFaultTarget(value);
  if ('status' in value) {
    if (!FAULT_STATUSES.includes(value.status as FaultStatus)) {
      throw new InvalidAdminRequestError(`fault status must be one of ${FAULT_STATUSES.join(', ')}`);
    }
    if (value.code !== undefined && !Number.isInteger(value.code))
      throw new InvalidAdminRequestError('fault code must be an integer');
    return {
      ...target,
      status: value.status as FaultStatus,
      ...(value.code === undefined ? {} : { code: value.code as number }),
    };
  }
  if (value.kind === 'timeout') {
    if (typeof value.delayMs !== 'number' || !(value.delayMs >= 0))
      throw new InvalidAdminRequestError('a timeout fault needs delayMs >= 0');
    return { ...target, kind: 'timeout', delayMs: value.delayMs };
  }
  if (value.kind === 'lost-response') {
    const reply = value.reply ?? 'gateway-timeout';
    if (reply !== 'gateway-timeout' && reply !== 'connection-reset') {
      throw new InvalidAdminRequestError('lost-response reply must be "gateway-timeout" or "connection-reset"');
    }
    return { ...target, kind: 'lost-response', reply };
  }
  throw new InvalidAdminRequestError('a fault rule needs a status, or kind "timeout" or "lost-response"');
}

function parseFaultTarget(value: Record<string, unknown>): FaultTarget {
  if (!Number.isInteger(value.times) || (value.times as number) < 1)
    throw new InvalidAdminRequestError('fault times must be an integer >= 1');
  const target: FaultTarget = { times: value.times as number };
  if (value.method !== undefined) {
    if (typeof value.method !== 'string') throw new InvalidAdminRequestError('fault method must be a string');
    target.method = value.method.toUpperCase();
  }
  if (value.pathPrefix !== undefined) {
    if (typeof value.pathPrefix !== 'string') throw new InvalidAdminRequestError('fault pathPrefix must be a string');
    target.pathPrefix = value.pathPrefix;
  }
  if (value.skip !== undefined) {
    if (!Number.isInteger(value.skip) || (value.skip as number) < 0)
      throw new InvalidAdminRequestError('fault skip must be an integer >= 0');
    target.skip = value.skip as number;
  }
  return target;
}

/** First-in first-out: the oldest rule that matches a request answers it and loses one use. */
class FaultQueue {
  #rules: FaultRule[] = [];

  /** Checks the rule even when it comes typed: a malformed rule would otherwise fail silently. */
  add(rule: unknown): void {
    this.#rules.push(parseFaultRule(rule));
  }

  take(method: string, path: string): FaultRule | undefined {
    const index = this.#rules.findIndex(
      (rule) =>
        (rule.method === undefined || rule.method === method) &&
        (rule.pathPrefix === undefined || path.startsWith(rule.pathPrefix)),
    );
    const rule = this.#rules[index];
    if (rule === undefined) return undefined;
    if (rule.skip) {
      this.#rules[index] = { ...rule, skip: rule.skip - 1 };
      return undefined;
    }
    if (rule.times === 1) this.#rules.splice(index, 1);
    else this.#rules[index] = { ...rule, times: rule.times - 1 };
    return rule;
  }

  pending(): FaultRule[] {
    return this.#rules.map((rule) => ({ ...rule }));
  }

  clear(): void {
    this.#rules = [];
  }
}

class CallLog {
  #records: CallRecord[] = [];
  #seq = 0;

  constructor(private readonly clock: Clock) {}

  record(call: Omit<CallRecord, 'seq' | 'time'>): void {
    this.#seq += 1;
    this.#records.push({ seq: this.#seq, time: new Date(this.clock()).toISOString(), ...call });
  }

  all(): CallRecord[] {
    return this.#records.map((record) => ({ ...record }));
  }

  clear(): void {
    this.#records = [];
    this.#seq = 0;
  }
}

function codesIn(body: unknown, field: 'errors' | 'warnings'): number[] {
  const items = isRecord(body) ? body[field] : undefined;
  if (!Array.isArray(items)) return [];
  return items.flatMap((item) => (isRecord(item) && typeof item.code === 'number' ? [item.code] : []));
}

function summarizeBody(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  // Mask before truncating, so a cut can never leave a partial user id unmasked.
  const text = maskLineUserIds(JSON.stringify(body));
  return text.length > LOGGED_BODY_CHARS ? `${text.slice(0, LOGGED_BODY_CHARS)}…` : text;
}

/** Reads the whole body even past the cap (so the client still gets the 413), but keeps no more than the cap. */
async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw new RequestBodyError(`request body is larger than ${maxBytes} bytes`, 413);
  if (size === 0) return undefined;
  if (request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RequestBodyError('request body is not valid JSON', 400);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.destroyed) return; // the client already hung up (e.g. it timed out)
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

/** Picks the route for a request: 404 when no pattern matches the path, 405 when only the method is wrong. */
function dispatch(
  routes: readonly Route[],
  request: StandInRequest,
  errorBody: ErrorBodyFormat,
): StandInReply | Promise<StandInReply> {
  const onPath = routes.flatMap((route) => {
    const match = route.pattern.exec(request.path);
    return match === null ? [] : [{ route, params: match.slice(1) }];
  });
  if (onPath.length === 0) return { status: 404, body: errorBody(404, 'Resource not found') };
  const hit = onPath.find(({ route }) => route.method === request.method);
  if (hit === undefined) return { status: 405, body: errorBody(405, `Method ${request.method} not allowed`) };
  return hit.route.handle(request, hit.params);
}

export async function startStandInServer<S extends BaseSettings>(
  definition: StandInDefinition<S>,
): Promise<StandInServer<S>> {
  const { settings, errorBody } = definition;
  const faults = new FaultQueue();
  const log = new CallLog(definition.clock);
  // Aborted on close, so held responses (latency, timeout faults) do not keep the server open.
  const closing = new AbortController();
  // Every held request listens on it; more than ten at once is normal under load, not a leak.
  setMaxListeners(0, closing.signal);

  // Headers every API answer carries besides the API's own (e.g. the rate-limit headers a real org may send).
  let extraHeaders: Record<string, string> = {};

  const reset = (): void => {
    definition.resetState();
    faults.clear();
    extraHeaders = {};
    log.clear();
    settings.restore();
  };

  const adminRoutes: Record<string, (body: unknown) => unknown> = {
    'GET /__admin/state': () => definition.snapshot(),
    'GET /__admin/calls': () => log.all(),
    'GET /__admin/faults': () => ({ pending: faults.pending() }),
    'POST /__admin/faults': (body) => {
      // Check them all first, so a bad rule in a list adds none of them.
      const rules = (Array.isArray(body) ? body : [body]).map(parseFaultRule);
      for (const rule of rules) faults.add(rule);
      return { pending: faults.pending() };
    },
    /** Faults alone: the API's data, the call log and the settings stay. */
    'DELETE /__admin/faults': () => {
      faults.clear();
      return { pending: faults.pending() };
    },
    'GET /__admin/config': () => settings.current,
    'POST /__admin/config': (body) => {
      if (!isRecord(body)) throw new InvalidAdminRequestError('config must be a JSON object');
      settings.update(body as Partial<S>); // update() checks every name and value
      return settings.current;
    },
    /** `{ "<name>": "<value>" | null }`: headers added to (null: removed from) every API answer */
    'POST /__admin/headers': (body) => {
      if (!isRecord(body) || Object.values(body).some((value) => value !== null && typeof value !== 'string'))
        throw new InvalidAdminRequestError('headers must map names to strings (null removes one)');
      const patched: Record<string, string | null> = { ...extraHeaders, ...(body as Record<string, string | null>) };
      extraHeaders = Object.fromEntries(
        Object.entries(patched).filter((entry): entry is [string, string] => entry[1] !== null),
      );
      return extraHeaders;
    },
    'POST /__admin/reset': () => {
      reset();
      return { reset: true };
    },
    ...definition.adminRoutes,
  };

  async function serveAdmin(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const route = adminRoutes[`${request.method ?? 'GET'} ${path}`];
    if (route === undefined) {
      const methods = Object.keys(adminRoutes)
        .filter((key) => key.endsWith(` ${path}`))
        .map((key) => key.split(' ')[0]);
      if (methods.length > 0)
        return sendJson(response, 405, { error: `${path} answers ${methods.join(' or ')}, not ${request.method}` });
      return sendJson(response, 404, {
        error: `no admin route ${request.method} ${path}; there are: ${Object.keys(adminRoutes).join(', ')}`,
      });
    }
    try {
      sendJson(response, 200, route(await readJsonBody(request, DEFAULT_MAX_BODY_BYTES)));
    } catch (error) {
      if (!(error instanceof InvalidAdminRequestError || error instanceof RequestBodyError)) throw error;
      sendJson(response, error instanceof RequestBodyError ? error.status : 400, { error: error.message });
    }
  }

  async function serveApi(incoming: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = incoming.method ?? 'GET';
    const request: StandInRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      body: undefined,
    };
    const sentAt = Number(incoming.headers['x-sent-at']);
    const transitMs = Number.isFinite(sentAt) ? Date.now() - sentAt : undefined;
    const answer = (reply: StandInReply, fault?: FaultKind): void => {
      log.record({
        method,
        path: maskLineUserIds(`${url.pathname}${url.search}`),
        status: response.destroyed ? null : reply.status,
        errorCodes: codesIn(reply.body, 'errors'),
        warningCodes: codesIn(reply.body, 'warnings'),
        requestBody: summarizeBody(request.body),
        fault,
        ...(transitMs === undefined ? {} : { transitMs }),
      });
      sendJson(response, reply.status, reply.body);
    };

    response.setHeader(definition.requestIdHeader, randomUUID());
    for (const [name, value] of Object.entries(extraHeaders)) response.setHeader(name, value);
    if (settings.current.latencyMs > 0) await sleep(settings.current.latencyMs, undefined, { signal: closing.signal });
    try {
      request.body = await readJsonBody(incoming, DEFAULT_MAX_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof RequestBodyError)) throw error;
      return answer({ status: error.status, body: errorBody(error.status, error.message) });
    }

    if (transitMs !== undefined && transitMs > (settings.current.maxTransitMs ?? Number.POSITIVE_INFINITY))
      return answer({ status: 504, body: errorBody(504, 'The request arrived after its client gave up') }, 'late');
    const fault = faults.take(method, url.pathname);
    if (fault === undefined) return answer(await dispatch(definition.routes, request, errorBody));
    if ('status' in fault) {
      return answer(
        { status: fault.status, body: errorBody(fault.code ?? fault.status, `Injected fault: HTTP ${fault.status}`) },
        'status',
      );
    }
    if (fault.kind === 'timeout') {
      await sleep(fault.delayMs, undefined, { signal: closing.signal });
      return answer({ status: 504, body: errorBody(504, 'Injected fault: gateway timeout') }, 'timeout');
    }
    await dispatch(definition.routes, request, errorBody); // the operation does run; only its answer is lost
    if (fault.reply === 'connection-reset') response.destroy();
    answer(
      { status: 504, body: errorBody(504, 'Injected fault: the operation ran but its response was lost') },
      'lost-response',
    );
  }

  const server = createServer((incoming, response) => {
    const url = new URL(incoming.url ?? '/', 'http://stand-in');
    const serve = url.pathname.startsWith('/__admin/')
      ? serveAdmin(incoming, response, url.pathname)
      : serveApi(incoming, response, url);
    serve.catch((error: unknown) => {
      if (closing.signal.aborted) return void response.destroy();
      sendJson(
        response,
        500,
        errorBody(500, `Stand-in failure: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(definition.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    injectFault: (rule) => faults.add(rule),
    configure: (patch) => settings.update(patch),
    calls: () => log.all(),
    reset,
    close: async () => {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // keep-alive sockets from fetch would otherwise hold close() open
      await closed;
    },
  };
}
