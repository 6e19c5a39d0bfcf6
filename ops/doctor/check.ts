/** One doctor check's verdict: what was checked, what was found and, when it failed, the one-line fix. */
export type CheckStatus = 'pass' | 'fail' | 'unknown';

export interface CheckResult {
  /** what the check is about, e.g. `LINE default`, `Capillary default`, `AWS` */
  area: string;
  check: string;
  status: CheckStatus;
  detail: string;
  /** what to do; every failure names one */
  fix?: string;
}

export const pass = (area: string, check: string, detail: string): CheckResult => ({
  area,
  check,
  status: 'pass',
  detail,
});

export const fail = (area: string, check: string, detail: string, fix: string): CheckResult => ({
  area,
  check,
  status: 'fail',
  detail,
  fix,
});

/** Could not tell: the detail says why, the fix how to find out. */
export const unknown = (area: string, check: string, detail: string, fix?: string): CheckResult => ({
  area,
  check,
  status: 'unknown',
  detail,
  ...(fix === undefined ? {} : { fix }),
});

/** A network failure's own words: fetch hides "connection refused" in its cause. */
export function networkProblem(error: unknown): string {
  const { message, cause, name } = error as Error & { cause?: Error & { code?: string } };
  if (name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? message;
}
