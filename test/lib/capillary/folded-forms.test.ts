import { CapillaryApiError } from '../../../lib/capillary/errors';
import { FoldedFormRefusals } from '../../../lib/capillary/folded-forms';
import { logger } from '../../../lib/observability/telemetry';

describe('FoldedFormRefusals', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(logger, 'warn').mockImplementation(() => {});
  });
  afterEach(() => warn.mockRestore());

  it('remembers each refused form on its own', () => {
    const refusals = new FoldedFormRefusals();
    expect(refusals.has('opt-in-on-add')).toBe(false);

    refusals.refuse('opt-in-on-add', 'warning 91022 on add-customer-line');

    expect(refusals.has('opt-in-on-add')).toBe(true);
    expect(refusals.has('profiles-together')).toBe(false);
  });

  it('says so once per form, with the refusal as detail', () => {
    const refusals = new FoldedFormRefusals();
    const error = new CapillaryApiError('add-customer-instore+line', 400, [400], undefined, '(not supported)');

    refusals.refuse('profiles-together', error);
    refusals.refuse('profiles-together', 'again');

    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('profiles-together'), {
      form: 'profiles-together',
      detail: error.message,
    });
  });
});
