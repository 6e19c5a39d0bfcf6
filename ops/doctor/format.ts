/** The doctor's report: one line per check (✔ / ✘ / ?), the fix after a ✘ or ?, a summary; or the same as JSON. */
import type { CheckResult, CheckStatus } from './check';

const MARKS: Record<CheckStatus, string> = { pass: '✔', fail: '✘', unknown: '?' };

export function formatResults(results: readonly CheckResult[]): string {
  const areaWidth = Math.max(0, ...results.map(({ area }) => area.length));
  const lines = results.map(({ area, check, status, detail, fix }) => {
    const line = `${MARKS[status]} ${area.padEnd(areaWidth)}  ${check}: ${detail}`;
    return fix === undefined ? line : `${line}\n${' '.repeat(areaWidth + 4)}→ ${fix}`;
  });
  return `${[...lines, '', summaryOf(results)].join('\n')}\n`;
}

export function summaryOf(results: readonly CheckResult[]): string {
  const count = (status: CheckStatus) => results.filter((result) => result.status === status).length;
  const failed = count('fail');
  return `${count('pass')} passed, ${failed} failed, ${count('unknown')} unknown${failed > 0 ? ': fix the ✘ lines, then run npm run doctor again.' : '.'}`;
}

export function resultsAsJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify({ ok: doctorExitCode(results) === 0, results }, null, 2)}\n`;
}

/** Non-zero when anything failed; an unknown (could not tell) does not fail the run. */
export const doctorExitCode = (results: readonly CheckResult[]): number =>
  results.some(({ status }) => status === 'fail') ? 1 : 0;
