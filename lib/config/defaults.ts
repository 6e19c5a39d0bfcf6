/**
 * Every default, written once. The config reader falls back to these; serverless.yml's `params.default`
 * and the README's configuration table are checked against them by test/lib/config/defaults.test.ts.
 */
export const DEFAULTS = {
  CLAIM_TTL_SECONDS: 120,
  WEBHOOK_MAX_BODY_BYTES: 1024 * 1024,
  LINE_API_BASE_URL: 'https://api.line.me',
  LINE_PROFILE_TIMEOUT_MS: 2000,
  CAPILLARY_OAUTH_HEADER: 'X-CAP-API-OAUTH-TOKEN',
  CAPILLARY_SUBSCRIPTION_CHANNEL: 'LINE',
  CAPILLARY_ORG_UNIT_ID: '-1',
  CAPILLARY_REGISTRATION_MODE: 'instore+line',
  CAPILLARY_EXTERNAL_ID_PREFIX: 'line_',
  CAPILLARY_SUBSCRIBE_ON_REGISTER: 'true',
  CAPILLARY_REGISTER_PROFILES_TOGETHER: 'false',
  CAPILLARY_TIMEOUT_MS: 5000,
  CAPILLARY_MAX_ATTEMPTS: 4,
  CAPILLARY_RATE_LIMIT_RPM: 100,
  WORKER_MAX_CONCURRENCY: 2,
  BACKFILL_BATCH_SIZE: 10,
  BACKFILL_PAGE_SIZE: 1000,
  BACKFILL_RECORD_MAX_ATTEMPTS: 3,
  BACKFILL_RATE_SHARE_PERCENT: 50,
  CAPILLARY_BULK_COUNTS_AS: 'record',
  LINE_API_TIMEOUT_MS: 10_000,
  LINK_POSTBACK_DATA: 'action=link',
  UNLINK_POSTBACK_DATA: 'action=unlink',
  POINTS_POSTBACK_DATA: 'action=points',
  CAPILLARY_LINK_METHOD: 'add-profile',
  CAPILLARY_LINK_ANONYMOUS: 'detach',
  CAPILLARY_MERGE_AUTO_APPROVE: 'false',
  LINE_REPLY_TOKEN_MAX_AGE_SECONDS: 50,
  LINK_NONCE_TTL_SECONDS: 600,
  LINK_ID_TOKEN_MAX_AGE_SECONDS: 600,
  LINK_API_MAX_BODY_BYTES: 16 * 1024,
  CAPILLARY_NOTIFICATIONS_MAX_BODY_BYTES: 256 * 1024,
  LINE_ACCOUNT_LINK_URL: 'https://access.line.me/dialog/bot/accountLink',
} as const;

/** serverless.yml parameter → the environment variable it feeds (for the settings that have a default). */
export const SERVERLESS_PARAMS: Partial<Record<keyof typeof DEFAULTS, string>> = {
  CLAIM_TTL_SECONDS: 'claimTtlSeconds',
  LINE_API_BASE_URL: 'lineApiBaseUrl',
  CAPILLARY_SUBSCRIPTION_CHANNEL: 'capillarySubscriptionChannel',
  CAPILLARY_ORG_UNIT_ID: 'capillaryOrgUnitId',
  CAPILLARY_REGISTRATION_MODE: 'capillaryRegistrationMode',
  CAPILLARY_EXTERNAL_ID_PREFIX: 'capillaryExternalIdPrefix',
  CAPILLARY_SUBSCRIBE_ON_REGISTER: 'capillarySubscribeOnRegister',
  CAPILLARY_REGISTER_PROFILES_TOGETHER: 'capillaryRegisterProfilesTogether',
  CAPILLARY_RATE_LIMIT_RPM: 'capillaryRateLimitRpm',
  WORKER_MAX_CONCURRENCY: 'workerMaxConcurrency',
  BACKFILL_BATCH_SIZE: 'backfillBatchSize',
  BACKFILL_PAGE_SIZE: 'backfillPageSize',
  BACKFILL_RECORD_MAX_ATTEMPTS: 'backfillRecordMaxAttempts',
  BACKFILL_RATE_SHARE_PERCENT: 'backfillRateSharePercent',
  CAPILLARY_BULK_COUNTS_AS: 'capillaryBulkCountsAs',
  CAPILLARY_LINK_METHOD: 'capillaryLinkMethod',
  CAPILLARY_LINK_ANONYMOUS: 'capillaryLinkAnonymous',
  CAPILLARY_MERGE_AUTO_APPROVE: 'capillaryMergeAutoApprove',
};

/** Log and metric identity: serverless.yml's service name and its alarms' namespace (checked by the same test). */
export const TELEMETRY = { serviceName: 'line-capillary-bridge', metricsNamespace: 'LineCapillaryBridge' } as const;
