import type { CapillaryConfig } from '../../../../lib/config/capillary-registration';
import { bulkPays, bulkRegistrationSettings } from '../../../../lib/worker/bulk/bulk-settings';
import { workerConfigFor } from '../../../../local/rigs/worker-rig';

const { capillary } = workerConfigFor('unused', 'http://unused', 'http://unused');
const settingsOf = (overrides: Partial<CapillaryConfig>) => bulkRegistrationSettings({ ...capillary, ...overrides });

describe('bulkRegistrationSettings', () => {
  it.each([
    [{ registrationMode: 'instore+line' }, 2],
    [{ registrationMode: 'instore+line', registerProfilesTogether: true }, 1],
    [{ registrationMode: 'instore+line', subscribeOnRegister: false }, 3],
    [{ registrationMode: 'line-only' }, 1],
    [{ registrationMode: 'line-only', subscribeOnRegister: false }, 2],
  ] as [Partial<CapillaryConfig>, number][])('%j: %d calls per single registration', (overrides, calls) => {
    expect(settingsOf({ ...overrides, bulkCountsAs: 'request' })).toEqual({
      countsAs: 'request',
      callsPerSingleRegistration: calls,
    });
  });

  it('registers nobody in bulk in on-link mode', () => {
    expect(settingsOf({ registrationMode: 'on-link' })).toBeUndefined();
  });
});

describe('bulkPays', () => {
  it('never for a single follower', () => {
    expect(bulkPays(1, { countsAs: 'request', callsPerSingleRegistration: 2 })).toBe(false);
  });

  it('always for several with request counting', () => {
    expect(bulkPays(2, { countsAs: 'request', callsPerSingleRegistration: 1 })).toBe(true);
    expect(bulkPays(10, { countsAs: 'request', callsPerSingleRegistration: 2 })).toBe(true);
  });

  it('with record counting, where N tokens are no more than the single registrations take', () => {
    expect(bulkPays(10, { countsAs: 'record', callsPerSingleRegistration: 2 })).toBe(true);
    expect(bulkPays(10, { countsAs: 'record', callsPerSingleRegistration: 1 })).toBe(true);
  });
});
