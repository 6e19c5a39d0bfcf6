import { findHeader } from '../../../lib/http/headers';

describe('findHeader', () => {
  it('finds the header whatever its casing', () => {
    expect(findHeader({ 'X-Line-Signature': 'a' }, 'x-line-signature')).toBe('a');
    expect(findHeader({ 'x-line-signature': 'b' }, 'x-line-signature')).toBe('b');
    expect(findHeader(undefined, 'x-line-signature')).toBeUndefined();
  });

  it('answers undefined for a header that is not there, and takes the exact name before searching', () => {
    expect(findHeader({ 'content-type': 'application/json' }, 'authorization')).toBeUndefined();
    expect(findHeader({ Authorization: 'upper', authorization: 'lower' }, 'authorization')).toBe('lower');
  });
});
