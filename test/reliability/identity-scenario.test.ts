/**
 * The identity mix's plan (local/chaos/identity-scenario): Capillary's merge of one anonymous customer into another
 * joins two people, so they must share no LINE account (a customer keeps one subscription per account), and a
 * survivor takes in one person at most.
 */
import fc from 'fast-check';

import { planIdentity } from '../../local/chaos/identity-scenario';
import { deliveriesOf, scenarioArbitrary, type ScenarioChannel } from '../../local/chaos/scenario';

const CHANNELS: ScenarioChannel[] = [
  { id: 'th', provider: 'brand', destination: `U${'1'.repeat(32)}` },
  { id: 'tw', provider: 'brand', destination: `U${'2'.repeat(32)}` },
  { id: 'jp', provider: 'other-brand', destination: `U${'3'.repeat(32)}` },
];

describe('planIdentity', () => {
  it.each([1, 6, 14, 1351190899])(
    'merges two anonymous customers only of people sharing no account, one person into each survivor (seed %s)',
    (seed) => {
      const shape = {
        users: { min: 100, max: 100 },
        eventsPerUser: { min: 4, max: 8 },
        maxRequestSize: 10,
        capillaryTimeoutFaultMs: 600,
        planLength: { min: 10, max: 10 },
        redeliveredPercent: 0,
        faultPercent: 0,
        crashPercent: 0,
        linkPercent: 1,
      };
      const [scenario] = fc.sample(scenarioArbitrary(shape), { seed, numRuns: 1 });
      const deliveries = deliveriesOf(scenario!, CHANNELS, 1_700_000_000_000, (channel) => channel.id !== 'tw');
      const plan = planIdentity(deliveries, CHANNELS, seed);
      const channelsOf = (recordKey: string) => {
        const userId = recordKey.split('#')[1];
        return new Set(deliveries.users.filter((user) => user.userId === userId).map((user) => user.channel));
      };
      const joined = plan.actions.filter((action) => action.kind === 'merge-anonymous-into-anonymous');
      expect(joined.length).toBeGreaterThan(0);
      for (const { subject, survivorOf } of joined) {
        const survivorChannels = channelsOf(survivorOf!);
        expect([...channelsOf(subject)].filter((channel) => survivorChannels.has(channel))).toEqual([]);
      }
      // each survivor person takes in one other person: two would share an account on the survivor
      const survivorPeople = joined.map(({ survivorOf }) => survivorOf!.split('#')[1]);
      expect(new Set(survivorPeople).size).toBe(survivorPeople.length);
    },
  );
});
