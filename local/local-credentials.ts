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
  /** the brand backend's token for the link API (at least 32 characters, as the config requires) */
  linkApiToken: 'local-link-api-token-0123456789abcdef',
  /** the static Authorization header Capillary's notifications carry (Bearer; at least 32 characters) */
  capillaryNotificationsToken: 'local-capillary-notifications-token-0123456789',
  /** `user:password` of the Capillary stand-in's behavioural-events integration */
  capillaryBehaviouralEventsCredentials: 'local.events:local-events-password',
} as const;
