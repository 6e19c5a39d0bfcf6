import { transitFigures } from '../../../local/chaos/transit';
import type { CallRecord } from '../../../local/standins/standin-kit';

const call = (seq: number, extra: Partial<CallRecord> = {}): CallRecord => ({
  seq,
  time: new Date(0).toISOString(),
  method: 'POST',
  path: '/v2/customers',
  status: 200,
  errorCodes: [],
  warningCodes: [],
  ...extra,
});

describe('chaos: calls in transit to the stand-ins', () => {
  it('takes p99 and max over the stamped calls only, and counts those not run for arriving late', () => {
    const stamped = Array.from({ length: 100 }, (_, index) => call(index, { transitMs: index + 1 }));
    const late = call(100, { transitMs: 9000, fault: 'late', status: 504 });
    const unstamped = call(101);
    expect(transitFigures([...stamped, late, unstamped])).toEqual({ calls: 101, p99Ms: 100, maxMs: 9000, late: 1 });
  });

  it('is all zeros without a stamped call', () => {
    expect(transitFigures([call(1)])).toEqual({ calls: 0, p99Ms: 0, maxMs: 0, late: 0 });
  });
});
