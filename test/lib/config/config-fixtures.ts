import { ConfigError } from '../../../lib/config/errors';

/** A secret resolver for settings given directly: any SSM read fails the test. */
export const noSsm = async (): Promise<string | undefined> => {
  throw new Error('SSM should not be called');
};

/** Everything the worker needs for the single channel `default` and the `default` Capillary org. */
export const workerEnv = (overrides: Record<string, string | undefined> = {}) => ({
  TABLE_NAME: 'users',
  LINE_CHANNEL_ACCESS_TOKEN: 'token',
  CAPILLARY_BASE_URL: 'https://apac2.api.capillarytech.com/',
  CAPILLARY_LINE_ACCOUNT_ID: '2001914141242',
  CAPILLARY_CLIENT_KEY: 'key',
  CAPILLARY_CLIENT_SECRET: 'secret',
  ...overrides,
});

/** The ConfigError's problems, so a test can assert on each one exactly. */
export async function problemsOf(reading: Promise<unknown>): Promise<string[]> {
  const error = await reading.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}
