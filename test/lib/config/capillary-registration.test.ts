import { readCapillaryRegistration } from '../../../lib/config/capillary-registration';
import { readConfig } from '../../../lib/config/env-reader';
import { noSsm, problemsOf } from './config-fixtures';

const read = (env: Record<string, string>) => readConfig(env, noSsm, readCapillaryRegistration);

describe('readCapillaryRegistration', () => {
  it('applies the documented defaults', async () => {
    expect(await read({})).toEqual({
      subscriptionChannel: 'LINE',
      orgUnitId: -1,
      registrationMode: 'instore+line',
      externalIdPrefix: 'line_',
      subscribeOnRegister: true,
      registerProfilesTogether: false,
      bulkCountsAs: 'record',
      timeoutMs: 5000,
      maxAttempts: 4,
    });
  });

  it('reads every setting, orgUnitId omitted when told to', async () => {
    const env = {
      CAPILLARY_SUBSCRIPTION_CHANNEL: 'LINE_TH',
      CAPILLARY_ORG_UNIT_ID: 'omit',
      CAPILLARY_REGISTRATION_MODE: 'on-link',
      CAPILLARY_EXTERNAL_ID_PREFIX: 'th_',
      CAPILLARY_SUBSCRIBE_ON_REGISTER: 'false',
      CAPILLARY_REGISTER_PROFILES_TOGETHER: 'true',
      CAPILLARY_BULK_COUNTS_AS: 'request',
      CAPILLARY_TIMEOUT_MS: '60000',
      CAPILLARY_MAX_ATTEMPTS: '1',
    };
    expect(await read(env)).toEqual({
      subscriptionChannel: 'LINE_TH',
      orgUnitId: undefined,
      registrationMode: 'on-link',
      externalIdPrefix: 'th_',
      subscribeOnRegister: false,
      registerProfilesTogether: true,
      bulkCountsAs: 'request',
      timeoutMs: 60_000,
      maxAttempts: 1,
    });
    expect((await read({ CAPILLARY_ORG_UNIT_ID: '50012' })).orgUnitId).toBe(50012);
  });

  it('lists every wrong setting', async () => {
    expect(await problemsOf(read({ CAPILLARY_ORG_UNIT_ID: '1.5', CAPILLARY_MAX_ATTEMPTS: '11' }))).toEqual([
      'CAPILLARY_ORG_UNIT_ID must be an integer or "omit", got "1.5"',
      'CAPILLARY_MAX_ATTEMPTS must be an integer from 1 to 10, got "11"',
    ]);
  });
});
