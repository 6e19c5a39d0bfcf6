// osls plugin (serverless.yml `plugins`): checks a stage's settings before anything is resolved or built, and prints
// one line per problem naming the fix, instead of osls's own reports (a `--param name=` with no value fails every
// `${param:…}`: 218 lines; a value that selects nothing fails each place it is used; a misspelt name is ignored).
//
// The settings are `params` in serverless.yml: every one has a default in `params.default` (which is also the list
// of names), a stage may override them under `params.<stage>`, and `--param name=value` overrides both. The values
// allowed here mirror what lib/config reads (test/deploy/required-params.test.ts keeps them in step).
// Plain JavaScript: osls loads plugins with require/import, without a TypeScript loader.

import { URL } from 'node:url';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An absolute URL over https (http only to a loopback host: the local stand-ins), optionally nothing but the origin. */
const url =
  ({ originOnly }) =>
  (value) => {
    let parsed;
    try {
      parsed = new URL(value);
    } catch {
      return URL.canParse(`https://${value}`)
        ? `must start with https://: https://${value}`
        : `must be a URL such as https://${originOnly ? 'host' : 'host/path'}`;
    }
    const secure = parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname));
    if (!secure) return `must start with https:// (http:// only for 127.0.0.1 or localhost)`;
    if (originOnly && (parsed.pathname !== '/' || parsed.search !== '' || value.endsWith('/')))
      return `must be the origin only, without a path or trailing slash: ${parsed.origin}`;
    return undefined;
  };
/** `allowed` stays readable on the rule, for the test that holds it to what lib/config accepts. */
const oneOf = (...allowed) =>
  Object.assign((value) => (allowed.includes(value) ? undefined : `must be one of ${allowed.join(', ')}`), { allowed });
const integer =
  (min, max = Number.MAX_SAFE_INTEGER) =>
  (value) =>
    /^-?\d+$/.test(value) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`;
const matching = (pattern, shape) => (value) => (pattern.test(value) ? undefined : `must be ${shape}`);
/** Empty means "off" for these. */
const orEmpty = (rule) => (value) => (value === '' ? undefined : rule(value));
const TRUE_FALSE = oneOf('true', 'false');
// CloudWatch Logs' retention values.
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
const TAG_VALUE = matching(
  /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u,
  'a tag value: 1 to 256 letters, digits, spaces or _.:/=+-@',
);

/** What each setting accepts; a setting not listed takes any value. */
export const SETTING_RULES = {
  environmentKind: oneOf('deployed', 'local'),
  logLevel: oneOf('TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'),
  logRetentionDays: oneOf(...RETENTION_DAYS.map(String)),
  workerTimeoutSeconds: integer(1, 900),
  claimTtlSeconds: integer(1),
  queueVisibilityTimeoutSeconds: integer(0, 43200),
  maxReceiveCount: integer(1, 1000),
  workerMaxConcurrency: integer(2, 1000),
  engagementMaxConcurrency: integer(2, 1000),
  webhookThrottleRateLimit: integer(1),
  webhookThrottleBurstLimit: integer(1),
  lineChannels: oneOf('single', 'list', 'path'),
  capillaryOrgs: oneOf('none', 'list'),
  lineExpectedDestinations: orEmpty(
    matching(/^U[0-9a-f]{32}$/, 'a bot user id, U and 32 hex digits (Basic settings › Your user ID)'),
  ),
  lineApiBaseUrl: url({ originOnly: true }),
  capillaryAuth: oneOf('oauth', 'basic'),
  capillaryOrgUnitId: matching(/^(-?\d+|omit)$/, 'a whole number (-1: the org) or omit'),
  capillaryRegistrationMode: oneOf('instore+line', 'line-only', 'on-link'),
  capillarySubscribeOnRegister: TRUE_FALSE,
  capillaryRegisterProfilesTogether: TRUE_FALSE,
  capillaryRateLimitRpm: integer(1),
  backfillTimeoutSeconds: integer(1, 900),
  backfillQueueVisibilityTimeoutSeconds: integer(0, 43200),
  backfillBatchSize: integer(1, 100),
  backfillPageSize: integer(1, 1000),
  backfillRecordMaxAttempts: integer(1, 10),
  backfillRateSharePercent: integer(1, 100),
  capillaryBulkCountsAs: oneOf('record', 'request'),
  insightCheckSchedule: matching(/^(cron|rate)\(.+\)$/, 'an EventBridge schedule, cron(…) or rate(…)'),
  followerDriftAlarmPercent: integer(0, 100),
  linkPageUrl: orEmpty(url({ originOnly: false })),
  lineLoginChannelId: orEmpty(matching(/^\d+$/, 'the LINE Login channel id (digits)')),
  capillaryLinkMethod: oneOf('add-profile', 'change-identifier'),
  capillaryLinkAnonymous: oneOf('detach', 'merge-request', 'keep'),
  capillaryMergeAutoApprove: TRUE_FALSE,
  linkImpersonationAlarmThreshold: integer(0),
  ssmKmsKeyArn: orEmpty(
    matching(
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
      'a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>',
    ),
  ),
  alarmEmail: orEmpty(matching(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address')),
  tagOwner: TAG_VALUE,
  tagCostCenter: TAG_VALUE,
  queueAgeAlarmSeconds: integer(60),
  signatureFailureAlarmThreshold: integer(0),
  http4xxAlarmThreshold: integer(0),
  capillaryBaseUrl: orEmpty(url({ originOnly: true })),
};

/** Orderings between settings (serverless.yml params.default explains each). */
const RELATIONS = [
  [
    'workerTimeoutSeconds',
    'claimTtlSeconds',
    (timeout, ttl) => ttl > timeout,
    'must be more than workerTimeoutSeconds',
  ],
  [
    'claimTtlSeconds',
    'queueVisibilityTimeoutSeconds',
    (ttl, visibility) => visibility > ttl,
    'must be more than claimTtlSeconds',
  ],
  [
    'workerTimeoutSeconds',
    'queueVisibilityTimeoutSeconds',
    (t, v) => v >= 6 * t,
    'must be at least 6 × workerTimeoutSeconds',
  ],
  [
    'backfillTimeoutSeconds',
    'backfillQueueVisibilityTimeoutSeconds',
    (t, v) => v >= 6 * t,
    'must be at least 6 × backfillTimeoutSeconds',
  ],
];

/** The settings without a default; capillaryLineAccountId only with a single channel (a list names one per channel). */
const REQUIRED = ['capillaryBaseUrl', 'capillaryLineAccountId'];
/** What a value looks like, in the messages about a missing one (docs/deploy.md#stage-parameters). */
const EXAMPLES = { capillaryBaseUrl: 'https://…' };

/** Levenshtein distance, case-insensitive: how far a misspelt name is from a known one. */
function distance(a, b) {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= y.length; j += 1)
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[y.length];
}

/** The known name closest to `name`, if one is close enough to be what was meant. */
export function closestName(name, known) {
  const [best] = known
    .map((candidate) => ({ candidate, score: distance(name, candidate) }))
    .sort((a, b) => a.score - b.score);
  return best !== undefined && best.score <= Math.max(2, Math.floor(name.length / 4)) ? best.candidate : undefined;
}

/** Names a reader may expect, that the stack cannot have, with why: said instead of a closest-name guess. */
const NOT_SETTINGS = {
  workerBatchWindowSeconds:
    'is not a setting: the events queue is FIFO, and Lambda takes no batching window for a FIFO event source; batches fill from what waits in the queue (docs/capillary.md#live-bulk-registration)',
};

/** `--param` values as osls receives them (`name=value`, one string or a list). */
function parseCliParams(param) {
  return [param ?? []].flat().map((entry) => {
    const separator = String(entry).indexOf('=');
    return separator < 0
      ? { name: String(entry), value: undefined }
      : { name: entry.slice(0, separator), value: entry.slice(separator + 1) };
  });
}

/**
 * The problems with a stage's settings, one line each: unknown names (from `--param` or `params.<stage>`), `--param`
 * without a value, values a setting does not accept, and orderings between settings.
 */
export function settingProblems({ params = {}, stage, cliParam }) {
  const defaults = params.default ?? {};
  const known = Object.keys(defaults);
  const where = (name, fromCli) =>
    fromCli ? `--param ${name}` : `params.${name in (params[stage] ?? {}) ? stage : 'default'}.${name}`;
  const unknown = (name, source) => {
    if (Object.hasOwn(NOT_SETTINGS, name)) return `${source} ${NOT_SETTINGS[name]}`;
    const suggestion = closestName(name, known);
    return `${source} names no setting${suggestion ? `: did you mean ${suggestion}?` : ''} (the settings: docs/deploy.md#stage-parameters)`;
  };
  const problems = [];
  for (const name of Object.keys(params[stage] ?? {}))
    if (!known.includes(name)) problems.push(unknown(name, `params.${stage}.${name} in serverless.yml`));

  const values = { ...defaults, ...params[stage] };
  const fromCli = new Set();
  for (const { name, value } of parseCliParams(cliParam)) {
    if (!known.includes(name)) problems.push(unknown(name, `--param ${name}`));
    else if (value === undefined || value === '')
      problems.push(
        REQUIRED.includes(name)
          ? `--param ${name}= has no value: give one, e.g. --param ${name}=${EXAMPLES[name] ?? '…'}`
          : `--param ${name}= has no value (osls passes no empty --param): leave it out for the default, or set ${name}: '' under params.${stage} in serverless.yml`,
      );
    else {
      values[name] = value;
      fromCli.add(name);
    }
  }

  const text = (name) => String(values[name] ?? '').trim();
  // A value still holding a variable (${env:…}) is only known once osls resolves it.
  const checkable = (name) => !text(name).includes('${');
  for (const [name, rule] of Object.entries(SETTING_RULES)) {
    if (!(name in values) || !checkable(name)) continue;
    const problem = rule(text(name));
    if (problem) problems.push(`${name} "${text(name)}" (${where(name, fromCli.has(name))}) ${problem}`);
  }
  for (const [lower, upper, holds, problem] of RELATIONS) {
    if (![lower, upper].every(checkable) || [lower, upper].some((name) => SETTING_RULES[name](text(name)))) continue;
    if (!holds(Number(text(lower)), Number(text(upper))))
      problems.push(`${upper} ${text(upper)} (${where(upper, fromCli.has(upper))}) ${problem} (${text(lower)})`);
  }
  return { problems, values };
}

/** The settings without a default the stage leaves empty. */
export function missingParamProblems(values, stage) {
  return REQUIRED.filter((name) => name !== 'capillaryLineAccountId' || values.lineChannels === 'single')
    .filter((name) => String(values[name] ?? '').trim() === '')
    .map(
      (name) =>
        `${name} is not set for stage ${stage}: pass --param ${name}=${EXAMPLES[name] ?? '…'} or add it under params.${stage} in serverless.yml`,
    );
}

export default class StageSettingsPlugin {
  constructor(serverless, options) {
    // Runs before osls resolves any variable: its own reports of a bad --param would otherwise come first.
    const stage = options.stage ?? 'dev';
    const { problems, values } = settingProblems({
      params: serverless.configurationInput?.params,
      stage,
      cliParam: options.param,
    });
    const refuse = (lines, code) => {
      if (lines.length > 0) throw new serverless.classes.Error(lines.join('\n'), code);
    };
    refuse(problems, 'STAGE_SETTING_INVALID');
    // Required values only where something is built or run; `sls remove` and `sls print` need none.
    const requireValues = () => refuse(missingParamProblems(values, stage), 'REQUIRED_PARAM_MISSING');
    this.hooks = {
      'before:package:initialize': requireValues,
      'before:deploy:function:initialize': requireValues,
      'before:invoke:local:invoke': requireValues,
    };
  }
}
