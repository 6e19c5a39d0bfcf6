/**
 * The doctor's Capillary checks for one org: the base URL answers as a Capillary cluster (every answer carries
 * X-Cap-Requestid), the credentials get a token, each channel's Source Account ID is one the org knows (a lookup in
 * it answers "not found", not "invalid source account"), and the rate limit the org reports in headers, if any,
 * against the configured one. Read-only: nothing is written.
 */
import { createHash } from 'node:crypto';

import type { CapillaryOrgConfig } from '../../lib/config/capillary-orgs';
import { fail, pass, unknown, type CheckResult } from './check';
import { isAnswer, probe, type ProbeAnswer, type ProbeOutcome } from './http-probe';

export interface CapillaryChannelTarget {
  id: string;
  capillaryLineAccountId: string;
}

/** Documented not-found codes of a lookup, and "invalid source account" (docs/capillary.md#lookup). */
const NOT_FOUND_CODES = [8015, 8065];
const INVALID_SOURCE_ACCOUNT = 8011;
/** An identifier no customer has: the lookup only shows whether the account exists. */
const PROBE_IDENTIFIER = 'line-capillary-bridge-doctor';
const REQUEST_ID_HEADER = 'x-cap-requestid';

export const errorCodesOf = (body: unknown): number[] => {
  const errors = (body as { errors?: { code?: unknown }[] } | undefined)?.errors;
  return Array.isArray(errors) ? errors.map((item) => Number(item.code)) : [];
};

function answerText(outcome: ProbeOutcome): string {
  if (!isAnswer(outcome)) return `no answer (${outcome.unreachable})`;
  const codes = errorCodesOf(outcome.body);
  return `HTTP ${outcome.status}${codes.length > 0 ? ` (codes ${codes.join(', ')})` : ''}`;
}

/** The headers that authenticate calls for the org, and the credentials check. */
export async function authenticate(
  area: string,
  org: CapillaryOrgConfig,
  answers: ProbeAnswer[],
): Promise<{ headers: Record<string, string>; result: CheckResult }> {
  const check = 'credentials';
  if (org.auth.scheme === 'basic') {
    const digest = createHash('md5').update(org.auth.secret).digest('hex');
    return {
      headers: { authorization: `Basic ${Buffer.from(`${org.auth.id}:${digest}`).toString('base64')}` },
      result: pass(area, check, 'Basic (till) auth: the account lookups below show whether Capillary accepts it'),
    };
  }
  const token = await probe(`${org.baseUrl}/v3/oauth/token/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ key: org.auth.id, secret: org.auth.secret }),
  });
  if (isAnswer(token)) answers.push(token);
  const accessToken = isAnswer(token)
    ? (token.body as { data?: { accessToken?: string } } | undefined)?.data?.accessToken
    : undefined;
  if (accessToken === undefined)
    return {
      headers: {},
      result: fail(
        area,
        check,
        `POST /v3/oauth/token/generate answered ${answerText(token)}`,
        "check the client key and secret the stage holds (capillary-client-key / -secret) and the API client's access group in Capillary",
      ),
    };
  return {
    headers: { [org.auth.oauthHeaderName]: accessToken },
    result: pass(area, check, 'the OAuth client gets a token'),
  };
}

export async function checkCapillaryOrg(
  org: CapillaryOrgConfig,
  channels: readonly CapillaryChannelTarget[],
): Promise<CheckResult[]> {
  const area = `Capillary ${org.id}`;
  const answers: ProbeAnswer[] = [];
  const { headers, result: credentials } = await authenticate(area, org, answers);
  const lookups = await Promise.all(
    channels.map(async (channel) => {
      const query = new URLSearchParams({
        source: 'LINE',
        accountId: channel.capillaryLineAccountId,
        identifierName: 'externalId',
        identifierValue: PROBE_IDENTIFIER,
      });
      const answer = await probe(`${org.baseUrl}/v2/customers/lookup?${query}`, { headers });
      if (isAnswer(answer)) answers.push(answer);
      return { channel, answer };
    }),
  );
  return [
    checkCluster(area, org, answers, lookups[0]?.answer),
    credentials,
    ...lookups.map(({ channel, answer }) => checkAccount(area, channel, answer, credentials.status === 'fail')),
    checkRateLimit(area, org, answers),
  ];
}

function checkCluster(
  area: string,
  org: CapillaryOrgConfig,
  answers: ProbeAnswer[],
  firstLookup: ProbeOutcome | undefined,
): CheckResult {
  const check = 'base URL';
  const fix = `set capillaryBaseUrl to the org's cluster host, e.g. https://apac2.api.capillarytech.com (Capillary tells you which)`;
  if (answers.length === 0)
    return fail(
      area,
      check,
      `${org.baseUrl} does not answer: ${firstLookup ? answerText(firstLookup) : 'no request made'}`,
      fix,
    );
  if (answers.some((answer) => answer.headers.has(REQUEST_ID_HEADER)))
    return pass(area, check, `${org.baseUrl} answers as a Capillary cluster (X-Cap-Requestid)`);
  return fail(area, check, `${org.baseUrl} answers, but not as Capillary does (no X-Cap-Requestid header)`, fix);
}

function checkAccount(
  area: string,
  channel: CapillaryChannelTarget,
  answer: ProbeOutcome,
  credentialsFailed: boolean,
): CheckResult {
  const check = `account of channel ${channel.id}`;
  const account = channel.capillaryLineAccountId;
  if (credentialsFailed) return unknown(area, check, `${account}: not checked without working credentials`);
  const codes = isAnswer(answer) ? errorCodesOf(answer.body) : [];
  if (isAnswer(answer) && (codes.some((code) => NOT_FOUND_CODES.includes(code)) || answer.status === 200))
    return pass(area, check, `${account} is a LINE source account of the org (a lookup in it answers not found)`);
  if (codes.includes(INVALID_SOURCE_ACCOUNT))
    return fail(
      area,
      check,
      `Capillary does not know source account ${account} (code ${INVALID_SOURCE_ACCOUNT})`,
      `set capillaryLineAccountId of channel ${channel.id} to the Source Account ID of this LINE account in Capillary (docs/capillary.md#line-accounts)`,
    );
  if (isAnswer(answer) && answer.status === 401)
    return fail(
      area,
      check,
      `Capillary refused the credentials (${answerText(answer)})`,
      'check the Capillary credentials the stage holds',
    );
  return unknown(area, check, `${account}: the lookup answered ${answerText(answer)}`);
}

/** The limit in `X-RateLimit-Limit` / `RateLimit-Limit` style headers, if Capillary sends one. */
export function reportedRateLimit(headers: Headers): { header: string; limit: number } | undefined {
  for (const [name, value] of headers) {
    if (!/^(x-)?rate-?limit-limit$/i.test(name)) continue;
    const limit = Number.parseInt(value, 10);
    if (Number.isFinite(limit)) return { header: name, limit };
  }
  return undefined;
}

function checkRateLimit(area: string, org: CapillaryOrgConfig, answers: ProbeAnswer[]): CheckResult {
  const check = 'rate limit';
  const configured = org.rateLimitPerMinute;
  const reported = answers.map((answer) => reportedRateLimit(answer.headers)).find((found) => found !== undefined);
  if (reported === undefined)
    return unknown(
      area,
      check,
      `Capillary reported no limit in its headers; the bridge paces to capillaryRateLimitRpm ${configured}/min`,
      "ask Capillary for the org's per-minute limit and set capillaryRateLimitRpm to it",
    );
  if (reported.limit < configured)
    return fail(
      area,
      check,
      `Capillary reports ${reported.limit} (${reported.header}), the bridge paces to ${configured}/min`,
      `set capillaryRateLimitRpm to ${reported.limit} or less`,
    );
  return pass(
    area,
    check,
    `Capillary reports ${reported.limit} (${reported.header}); the bridge paces to ${configured}/min`,
  );
}
