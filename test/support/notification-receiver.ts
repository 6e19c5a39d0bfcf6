import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Capillary's webhook target: answers the given statuses in turn (then 200), and keeps what it received. */
export async function startNotificationReceiver(statuses: number[] = []) {
  const received: { authorization?: string; body: Record<string, unknown> }[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        authorization: request.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      response.statusCode = statuses.shift() ?? 200;
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/capillary/notifications`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
