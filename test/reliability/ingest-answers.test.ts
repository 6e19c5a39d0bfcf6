/** The chaos run's record of ingest posts whose answer never reached the bridge (local/chaos/ingest-answers). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { watchIngestAnswers } from '../../local/chaos/ingest-answers';

describe('watchIngestAnswers', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    // /webhooks/slow takes the post and answers after the client gave up; the rest answer at once.
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (request.url === '/webhooks/slow') setTimeout(() => response.end('{}'), 300);
        else response.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = (path: string, externalEventId: string, timeoutMs = 5000) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      body: JSON.stringify({ event_name: 'line_checkin', external_event_id: externalEventId }),
      signal: AbortSignal.timeout(timeoutMs),
    });

  it('counts each ingest post whose answer the client never got, by external_event_id, and nothing else', async () => {
    const watch = watchIngestAnswers();
    try {
      await post('/webhooks/fast', 'E1');
      await expect(post('/webhooks/slow', 'E2', 50)).rejects.toThrow();
      await expect(post('/webhooks/slow', 'E2', 50)).rejects.toThrow();
      await expect(post('/elsewhere', 'E3', 5000)).resolves.toBeDefined();
    } finally {
      watch.stop();
    }
    expect([...watch.lost]).toEqual([['E2', 2]]);
  });

  it('puts the original fetch back when stopped', () => {
    const original = globalThis.fetch;
    watchIngestAnswers().stop();
    expect(globalThis.fetch).toBe(original);
  });
});
