/**
 * The local pipeline's credentials: not secrets, the same everywhere (the stand-ins' defaults, the worker
 * rig, and serverless.yml's `--stage local` environment, which test/deploy checks against these).
 */
export const LOCAL_CREDENTIALS = {
  lineChannelSecret: '0123456789abcdef0123456789abcdef',
  lineChannelAccessToken: 'local-channel-access-token',
  capillaryClientKey: 'local-client-key',
  capillaryClientSecret: 'local-client-secret',
  capillaryLineAccountId: 'local-line-account',
} as const;
