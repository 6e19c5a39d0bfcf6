import crypto from 'node:crypto';

import { isAuthorized } from '../../../lib/http/bearer-auth';

describe('isAuthorized', () => {
  it('accepts every token of a rotation', () => {
    expect(isAuthorized('Bearer new-token', ['old-token', 'new-token'])).toBe(true);
    expect(isAuthorized('Bearer old-token', ['old-token', 'new-token'])).toBe(true);
    expect(isAuthorized('Bearer other', ['old-token', 'new-token'])).toBe(false);
    expect(isAuthorized('Bearer ', ['old-token'])).toBe(false);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Basic old-token'],
    ['no scheme', 'old-token'],
    ['a token with a space in it', 'Bearer old-token extra'],
    ['a prefix of a token', 'Bearer old'],
    ['a token that extends one', 'Bearer old-token2'],
  ])('refuses %s', (_case, authorization) => {
    expect(isAuthorized(authorization, ['old-token'])).toBe(false);
  });

  it('accepts nothing when no token is configured', () => {
    expect(isAuthorized('Bearer old-token', [])).toBe(false);
  });

  it('compares with every token, whichever matches', () => {
    // The time taken must not tell which token matched: each one is hashed and compared.
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    isAuthorized('Bearer a', ['a', 'b', 'c']);
    expect(compare).toHaveBeenCalledTimes(3);
    compare.mockRestore();
  });
});
