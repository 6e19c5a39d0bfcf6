import { fail, pass, unknown } from '../../../ops/doctor/check';
import { doctorExitCode, formatResults, resultsAsJson } from '../../../ops/doctor/format';

const results = [
  pass('LINE default', 'access token', 'works'),
  fail('Capillary default', 'credentials', 'HTTP 401', 'check the client key'),
  unknown('AWS', 'alarms', 'not read from here', 'CloudWatch console'),
];

describe('doctor report', () => {
  it('prints one line per check with its mark, the fix under a ✘ or ?, and a summary', () => {
    expect(formatResults(results)).toBe(
      [
        '✔ LINE default       access token: works',
        '✘ Capillary default  credentials: HTTP 401',
        '                     → check the client key',
        '? AWS                alarms: not read from here',
        '                     → CloudWatch console',
        '',
        '1 passed, 1 failed, 1 unknown: fix the ✘ lines, then run npm run doctor again.',
        '',
      ].join('\n'),
    );
  });

  it('exits non-zero only when something failed', () => {
    expect(doctorExitCode(results)).toBe(1);
    expect(doctorExitCode([results[0], results[2]] as typeof results)).toBe(0);
  });

  it('gives the same as JSON', () => {
    expect(JSON.parse(resultsAsJson(results))).toEqual({ ok: false, results });
  });
});
