import fc from 'fast-check';
import { startChaosServices, type ChaosServices } from '../support/chaos/chaos-services';
import { playScenario } from '../support/chaos/play-scenario';
import { scenarioArbitrary } from '../support/chaos/scenario';

let services: ChaosServices;
beforeAll(async () => { services = await startChaosServices(); });
afterAll(() => services.close());

it('plays', async () => {
  const shape = { users: { min: 4, max: 6 }, eventsPerUser: { min: 1, max: 5 }, redeliveredPercent: 30, maxRequestSize: 5, faultPercent: 20, crashPercent: 10, capillaryTimeoutFaultMs: 300, planLength: 40 };
  for (const seed of [1, 2, 3]) {
    const [scenario] = fc.sample(scenarioArbitrary(shape), { seed, numRuns: 1 });
    const started = Date.now();
    const result = await playScenario(services, { instances: 4, functionTimeoutMs: 1500, claimTtlMs: 1800, visibilityTimeoutSeconds: 2, maxReceiveCount: 5, capillaryTimeoutMs: 150, webhookConcurrency: 1, drainDeadlineMs: 30000 }, scenario!);
    console.log(seed, Date.now() - started, 'ms', JSON.stringify(result.figures), JSON.stringify(result.problems));
  }
}, 120000);
