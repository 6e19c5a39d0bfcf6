/**
 * API Gateway HTTP API in front of the webhook function, locally: the raw request body is kept as
 * bytes (the LINE signature covers them exactly), handed to the real handler as a payload v2 event,
 * and the handler's result is written back the way API Gateway maps it. Only the deployed routes
 * exist (`POST /line/webhook`, `POST /line/webhook/{channel}`, and the link API's when given); `/__local/<name>`
 * serves the local pipeline's own JSON admin routes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

import { matchWebhookRoute, toApiGatewayV2Event } from './lambda-events';
import { LOCAL_ADMIN_PREFIX } from './pipeline-admin-api';
import { LOCAL_WEBHOOK_PATH } from './sample-events';

export type WebhookHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

/** Keyed like `GET status`: `<method> /__local/<name>?…` → JSON; throw an AdminRequestError for a 400. */
export type AdminRoutes = Record<string, (query: URLSearchParams) => unknown>;

export class AdminRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminRequestError';
  }
}

export interface WebhookServerOptions {
  port: number;
  handler: WebhookHandler;
  context: () => Context;
  adminRoutes: AdminRoutes;
  /** more `POST <path>` routes of the same HTTP API, each to its function (the link API's) */
  functionRoutes?: Record<string, WebhookHandler>;
  /** `signatureHeader`: the request carries x-line-signature (whether it is valid is the handler's call) */
  onRequest?: (request: { bytes: number; signatureHeader: boolean }) => void;
  onResponse?: (response: { status: number; durationMs: number }) => void;
  /** the handler threw: API Gateway answers 500 */
  onHandlerError?: (error: Error) => void;
}

export interface WebhookServer {
  /** e.g. http://127.0.0.1:3000 */
  origin: string;
  webhookUrl: string;
  port: number;
  close(): Promise<void>;
}

interface HttpReply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const jsonReply = (status: number, value: unknown): HttpReply => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(value)),
});

/** API Gateway's reading of a v2 result: a structured object, or any other value as a 200 JSON body. */
function toHttpReply(result: APIGatewayProxyResultV2): HttpReply {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) return jsonReply(200, result);
  const headers: Record<string, string | string[]> = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
  );
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body ?? '';
  return {
    status: result.statusCode ?? 200,
    headers,
    body: Buffer.from(body, result.isBase64Encoded ? 'base64' : 'utf8'),
  };
}

/** API Gateway joins repeated headers with commas. */
function flatHeaders(request: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(',') : value]],
    ),
  );
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function write(response: ServerResponse, reply: HttpReply): void {
  response.writeHead(reply.status, { ...reply.headers, 'content-length': reply.body.length });
  response.end(reply.body);
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  async function invokeWebhook(request: IncomingMessage, url: URL, handler = options.handler): Promise<HttpReply> {
    const body = await readBody(request);
    const headers = flatHeaders(request);
    options.onRequest?.({ bytes: body.length, signatureHeader: headers['x-line-signature'] !== undefined });
    const started = Date.now();
    const event = toApiGatewayV2Event({
      method: 'POST',
      path: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      body,
      sourceIp: request.socket.remoteAddress,
    });
    let reply: HttpReply;
    try {
      reply = toHttpReply(await handler(event, options.context()));
    } catch (error) {
      options.onHandlerError?.(error instanceof Error ? error : new Error(String(error)));
      reply = jsonReply(500, { message: 'Internal Server Error' });
    }
    options.onResponse?.({ status: reply.status, durationMs: Date.now() - started });
    return reply;
  }

  async function serveAdmin(request: IncomingMessage, url: URL): Promise<HttpReply> {
    const name = url.pathname.slice(LOCAL_ADMIN_PREFIX.length);
    const route = options.adminRoutes[`${request.method} ${name}`];
    if (route === undefined) {
      const methods = Object.keys(options.adminRoutes)
        .filter((key) => key.endsWith(` ${name}`))
        .map((key) => key.split(' ')[0]);
      if (methods.length > 0)
        return jsonReply(405, { message: `${url.pathname} answers ${methods.join(' or ')}, not ${request.method}` });
      return jsonReply(404, {
        message: `Not Found; the admin routes are ${Object.keys(options.adminRoutes).join(', ')}`,
      });
    }
    try {
      return jsonReply(200, await route(url.searchParams));
    } catch (error) {
      if (!(error instanceof AdminRequestError)) throw error;
      return jsonReply(400, { message: error.message });
    }
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://local');
    let reply: Promise<HttpReply>;
    const functionRoute = request.method === 'POST' ? options.functionRoutes?.[url.pathname] : undefined;
    if (matchWebhookRoute(request.method ?? '', url.pathname) !== undefined) reply = invokeWebhook(request, url);
    else if (functionRoute !== undefined) reply = invokeWebhook(request, url, functionRoute);
    else if (url.pathname.startsWith(LOCAL_ADMIN_PREFIX)) reply = serveAdmin(request, url);
    else reply = Promise.resolve(jsonReply(404, { message: 'Not Found' })); // HTTP API's answer for an unknown route
    reply.then(
      (value) => write(response, value),
      (error: unknown) =>
        write(response, jsonReply(500, { message: error instanceof Error ? error.message : String(error) })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    webhookUrl: `${origin}${LOCAL_WEBHOOK_PATH}`,
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // keep-alive sockets (fetch) would otherwise hold close() open
      await closed;
    },
  };
}
