import { asNewEvents } from '../../local/replay';
import type { SampleBody } from '../../local/sample-events';

const NOW = 1_800_000_000_000;

function body(name: string, events: { webhookEventId: string; timestamp: number }[]): SampleBody {
  return {
    name,
    bytes: Buffer.from(
      JSON.stringify({ destination: 'Ubot', events: events.map((event) => ({ type: 'follow', ...event })) }),
    ),
  };
}

const eventsOf = (sample: SampleBody) =>
  (JSON.parse(sample.bytes.toString()) as { events: { webhookEventId: string; timestamp: number }[] }).events;

describe('asNewEvents (replay --fresh)', () => {
  it('gives every event a new webhookEventId, the same new one to events that shared one (a redelivery stays one)', () => {
    // Prepare
    const bodies = [
      body('follow', [{ webhookEventId: 'E1', timestamp: 1000 }]),
      body('redelivered', [{ webhookEventId: 'E1', timestamp: 1000 }]),
      body('unfollow', [{ webhookEventId: 'E2', timestamp: 5000 }]),
    ];

    // Act
    const fresh = asNewEvents(bodies, NOW).map(eventsOf).flat();

    // Assess
    const [follow, redelivered, unfollow] = fresh.map((event) => event.webhookEventId);
    expect(follow).toMatch(/^[0-9A-Z]{26}$/);
    expect(redelivered).toBe(follow);
    expect(unfollow).not.toBe(follow);
    expect(fresh.map((event) => event.webhookEventId)).not.toContain('E1');
    expect(asNewEvents(bodies, NOW).map(eventsOf).flat()[0]?.webhookEventId).not.toBe(follow);
  });

  it('moves the timestamps so the latest is now, keeping order and spacing', () => {
    const fresh = asNewEvents(
      [
        body('batch', [
          { webhookEventId: 'A', timestamp: 1000 },
          { webhookEventId: 'B', timestamp: 4000 },
        ]),
      ],
      NOW,
    );

    expect(eventsOf(fresh[0] as SampleBody).map((event) => event.timestamp)).toEqual([NOW - 3000, NOW]);
  });

  it('keeps names, and posts a body that is not a callback unchanged', () => {
    const notJson = { name: 'broken', bytes: Buffer.from('{not json') };
    const verify = { name: 'verify', bytes: Buffer.from('{"destination":"Ubot","events":[]}') };

    const fresh = asNewEvents([notJson, verify], NOW);

    expect(fresh[0]).toBe(notJson);
    expect(fresh.map((sample) => sample.name)).toEqual(['broken', 'verify']);
    expect(eventsOf(fresh[1] as SampleBody)).toEqual([]);
  });
});
