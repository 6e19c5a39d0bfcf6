import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { isValidLineSignature } from '../../../lib/line/signature';
import { LOCAL_CHANNEL_SECRET } from '../../../local/sample-events';
import { signLineBody } from '../../../local/sign-line-body';

// docs/line.md#signature: compact bodies and their signatures under the documented test secret.
const documentedVectors: [string, string][] = [
  ['01-verify.json', 'EBwzRpe70faExNFnnKcAiDVvILpFaV70GX3TYCnJOPA='],
  ['02-follow.json', 'b/3SpUryNsg/86eidUYNWU5prbaq27AESdz5qyuhkr8='],
  ['03-follow-redelivered.json', '/cq4O8aiHDtKWymSnx+KS9QUIErUKF12iQLfx9IBeJI='],
  ['04-text-message.json', '3vHs07WTFu4yotBukKzYCKEUpT0FB3hIQTKemhyZ29w='],
  ['06-unfollow.json', 'CczTppsMuTnHXEeDdnKXfM516UKFvAmrhsS+W7bKExg='],
  ['07-follow-unblocked.json', '8oFRASjLKr7eAXzEjPN/7GWYQOfMDY55atQ1pVu4/Zw='],
];
const sample = (file: string) => readFileSync(join(__dirname, '..', '..', '..', 'events', file));

describe('isValidLineSignature', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each(documentedVectors)('accepts the documented signature of %s', (file, signature) => {
    expect(isValidLineSignature(sample(file), [LOCAL_CHANNEL_SECRET], signature)).toBe(true);
    expect(signLineBody(sample(file), LOCAL_CHANNEL_SECRET)).toBe(signature);
  });

  it('rejects a wrong signature of the right length', () => {
    // Prepare: flip one bit of a valid 32-byte digest, so only the comparison can reject it
    const digest = Buffer.from(documentedVectors[1]![1], 'base64');
    digest[31] = digest[31]! ^ 1;
    // Act + Assess
    expect(isValidLineSignature(sample('02-follow.json'), [LOCAL_CHANNEL_SECRET], digest.toString('base64'))).toBe(
      false,
    );
  });

  it('rejects a missing or empty signature without throwing', () => {
    expect(isValidLineSignature(sample('02-follow.json'), [LOCAL_CHANNEL_SECRET], undefined)).toBe(false);
    expect(isValidLineSignature(sample('02-follow.json'), [LOCAL_CHANNEL_SECRET], '')).toBe(false);
  });

  it('rejects a header of any other length or base64 garbage without throwing or comparing', () => {
    // Prepare
    const body = sample('02-follow.json');
    const digest = Buffer.from(documentedVectors[1]![1], 'base64');
    const timingSafeEqual = jest.spyOn(crypto, 'timingSafeEqual');
    const headers = [
      digest.subarray(0, 31).toString('base64'), // one byte short
      Buffer.concat([digest, Buffer.from([0])]).toString('base64'), // one byte over
      digest.toString('hex'), // the right digest, wrongly encoded
      '!!!! not base64 at all ~~~~',
      '=',
    ];
    // Act + Assess
    for (const header of headers) expect(isValidLineSignature(body, [LOCAL_CHANNEL_SECRET], header)).toBe(false);
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });

  it('rejects the body once it has been re-serialised', () => {
    const reserialised = Buffer.from(
      JSON.stringify(JSON.parse(sample('04-text-message.json').toString('utf8')), null, 1),
    );
    expect(isValidLineSignature(reserialised, [LOCAL_CHANNEL_SECRET], documentedVectors[3]![1])).toBe(false);
  });

  it('accepts either secret during a rotation, and no empty secret', () => {
    const body = sample('02-follow.json');
    expect(isValidLineSignature(body, ['f'.repeat(32), LOCAL_CHANNEL_SECRET], documentedVectors[1]![1])).toBe(true);
    expect(isValidLineSignature(body, [''], signLineBody(body, ''))).toBe(false);
  });
});
