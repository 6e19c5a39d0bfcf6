/**
 * A stand-in for the brand's own login page (docs/architecture.md#linking): the user arrives from the
 * bridge's link button with `?linkToken=…`, "logs in" with a mobile number, and the page's server asks
 * the link API for a nonce and redirects the browser to LINE's account-link URL. It keeps nothing: in
 * real life this page is the brand's, with the brand's real login.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BrandLoginPageOptions {
  port: number;
  /** e.g. http://127.0.0.1:3000/line/link (read per request: known once the HTTP API listens) */
  linkApiUrl: () => string;
  linkApiToken: string;
}

export interface BrandLoginPage {
  /** the page, with `{linkToken}` where the bridge puts the token (LINK_PAGE_URL) */
  linkPageUrl: string;
  url: string;
  close(): Promise<void>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function page(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  response.end(`<!doctype html><meta charset="utf-8"><title>Brand login (local)</title><body>${body}</body>`);
}

async function formOf(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16 * 1024) break;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startBrandLoginPage(options: BrandLoginPageOptions): Promise<BrandLoginPage> {
  const login = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const form = await formOf(request);
    const linkToken = form.get('linkToken') ?? '';
    const mobile = (form.get('mobile') ?? '').replace(/\D/g, '');
    const answer = await fetch(`${options.linkApiUrl()}/nonce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.linkApiToken}` },
      body: JSON.stringify({ linkToken, customer: { mobile } }),
    });
    const body = (await answer.json().catch(() => ({}))) as { redirectUrl?: string; message?: string };
    if (answer.status !== 200 || body.redirectUrl === undefined) {
      return page(
        response,
        answer.status >= 400 ? answer.status : 502,
        `<p>Could not link: ${escapeHtml(body.message ?? `HTTP ${answer.status}`)}</p>`,
      );
    }
    response.writeHead(302, { location: body.redirectUrl });
    response.end();
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://brand');
    if (request.method === 'POST' && url.pathname === '/login') {
      login(request, response).catch((error: unknown) => page(response, 500, escapeHtml((error as Error).message)));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/') {
      const linkToken = escapeHtml(url.searchParams.get('linkToken') ?? '');
      return page(
        response,
        200,
        `<h1>Log in to link your LINE account</h1>
<form method="post" action="/login"><input type="hidden" name="linkToken" value="${linkToken}">
<label>Mobile number (with country code) <input name="mobile" inputmode="numeric" required></label> <button>Log in and link</button></form>
<p>You can unlink at any time from the LINE chat.</p>`,
      );
    }
    page(response, 404, 'Not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    linkPageUrl: `${url}/?linkToken={linkToken}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
