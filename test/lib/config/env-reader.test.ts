import { EnvReader, isHttpUrl, list, readConfig, type SecretResolver } from '../../../lib/config/env-reader';
import { ConfigError } from '../../../lib/config/errors';
import { noSsm, problemsOf } from './config-fixtures';

/** Reads with `use`, then answers what it read beside the problems recorded. */
async function reading<T>(
  env: Record<string, string | undefined>,
  use: (read: EnvReader) => T | Promise<T>,
  resolveSecret: SecretResolver = noSsm,
): Promise<{ value: T; problems: string[] }> {
  let value: T | undefined;
  try {
    await readConfig(env, resolveSecret, async (read) => (value = await use(read)));
    return { value: value as T, problems: [] };
  } catch (error) {
    return { value: value as T, problems: (error as ConfigError).problems };
  }
}

const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });

describe('EnvReader', () => {
  it('treats a blank value as unset and trims the others', async () => {
    const { value } = await reading({ A: '  ', B: ' b ' }, (read) => [read.optional('A'), read.optional('B')]);
    expect(value).toEqual([undefined, 'b']);
  });

  it('names a required setting that is not set', async () => {
    expect(await reading({}, (read) => read.required('TABLE_NAME'))).toEqual({
      value: '',
      problems: ['TABLE_NAME is not set'],
    });
  });

  it('checks a URL and drops its trailing slashes; a fallback makes it optional', async () => {
    expect((await reading({ U: 'https://x.example//' }, (read) => read.url('U'))).value).toBe('https://x.example');
    expect((await reading({}, (read) => read.url('U', 'https://fallback.example'))).value).toBe(
      'https://fallback.example',
    );
    expect((await reading({ U: 'ftp://x' }, (read) => read.url('U'))).problems).toEqual([
      'U must be an http(s) URL, got "ftp://x"',
    ]);
  });

  it.each([['2.5'], ['x'], ['0'], ['11']])('refuses the integer %s outside 1..10, falling back', async (raw) => {
    expect(await reading({ N: raw }, (read) => read.integer('N', 3, 1, 10))).toEqual({
      value: 3,
      problems: [`N must be an integer from 1 to 10, got "${raw}"`],
    });
  });

  it('reads an integer, a choice and a flag, each with its fallback when unset', async () => {
    const { value, problems } = await reading({ N: '10', C: 'b', F: 'false' }, (read) => [
      read.integer('N', 3, 1, 10),
      read.integer('UNSET', 3, 1, 10),
      read.oneOf('C', ['a', 'b'] as const, 'a'),
      read.flag('F', 'true'),
      read.flag('UNSET', 'true'),
    ]);
    expect(problems).toEqual([]);
    expect(value).toEqual([10, 3, 'b', false, true]);
  });

  it('names a choice or flag it does not know', async () => {
    const { problems } = await reading({ C: 'c', F: 'yes' }, (read) => [
      read.oneOf('C', ['a', 'b'] as const, 'a'),
      read.flag('F', 'true'),
    ]);
    expect(problems).toEqual(['C must be one of a, b, got "c"', 'F must be one of true, false, got "yes"']);
  });

  it('sees a setting given directly or as an SSM parameter name', async () => {
    const { value } = await reading({ A: 'a', B_PARAM: '/b' }, (read) => [
      read.isSet('A'),
      read.isSet('B'),
      read.isSet('C'),
    ]);
    expect(value).toEqual([true, true, false]);
  });

  it('lists the same problem found by two sections once', async () => {
    const { problems } = await reading({}, (read) => [read.required('TABLE_NAME'), read.required('TABLE_NAME')]);
    expect(problems).toEqual(['TABLE_NAME is not set']);
  });
});

describe('EnvReader secrets', () => {
  it('prefers the direct value, else reads the SSM parameter `NAME_PARAM` names', async () => {
    const names: string[] = [];
    const resolver = async (name: string) => {
      names.push(name);
      return 'from-ssm';
    };
    const { value } = await reading(
      { A: 'direct', A_PARAM: '/a', B_PARAM: '/b' },
      async (read) => [await read.secret('A'), await read.secret('B')],
      resolver,
    );
    expect(value).toEqual(['direct', 'from-ssm']);
    expect(names).toEqual(['/b']);
  });

  it('names a missing secret unless it is optional, and an empty SSM parameter', async () => {
    const { problems } = await reading(
      { EMPTY_PARAM: '/empty' },
      async (read) => [
        await read.secret('MISSING'),
        await read.secret('OPTIONAL', { required: false }),
        await read.secret('EMPTY'),
      ],
      async () => '',
    );
    expect(problems).toEqual([
      'MISSING (or MISSING_PARAM) is not set',
      'EMPTY_PARAM names SSM parameter "/empty", which is empty',
    ]);
  });

  it('names an unreadable parameter by setting and error name, keeping the first failure as the cause', async () => {
    const failing = readConfig(
      { A_PARAM: '/a', B_PARAM: '/b' },
      async () => Promise.reject(denied),
      async (read) => [await read.secret('A'), await read.secret('B')],
    );
    await expect(failing).rejects.toMatchObject({
      problems: [
        'A_PARAM: cannot read SSM parameter "/a" (AccessDeniedException)',
        'B_PARAM: cannot read SSM parameter "/b" (AccessDeniedException)',
      ],
      cause: denied,
    });
  });

  it('reads the parameters under a path, by their last name segment', async () => {
    const resolver = Object.assign(async () => noSsm(), { byPath: async (path: string) => ({ th: `${path}/th` }) });
    const { value } = await reading(
      { P: '/p' },
      async (read) => [await read.secretsByPath('P'), await read.secretsByPath('UNSET')],
      resolver,
    );
    expect(value).toEqual([{ th: '/p/th' }, undefined]);
  });

  it('names a path it cannot read, or cannot read here', async () => {
    const failing = Object.assign(async () => undefined, { byPath: async () => Promise.reject(denied) });
    expect((await reading({ P: '/p' }, (read) => read.secretsByPath('P'), failing)).problems).toEqual([
      'P: cannot read the SSM parameters under "/p" (AccessDeniedException)',
    ]);
    expect(
      (
        await reading(
          { P: '/p' },
          (read) => read.secretsByPath('P'),
          async () => undefined,
        )
      ).problems,
    ).toEqual(['P: SSM parameters by path cannot be read here']);
  });
});

describe('readConfig', () => {
  it('answers the configuration when no section found a problem', async () => {
    expect(await readConfig({ A: 'a' }, noSsm, (read) => ({ a: read.required('A') }))).toEqual({ a: 'a' });
  });

  it('throws every problem of every section in one ConfigError', async () => {
    const problems = await problemsOf(
      readConfig({}, noSsm, (read) => {
        read.required('A');
        read.problem('B', 'must be set with A');
        return read.url('C');
      }),
    );
    expect(problems).toEqual(['A is not set', 'B must be set with A', 'C is not set']);
    await expect(readConfig({}, noSsm, (read) => read.required('A'))).rejects.toThrow(
      'Invalid configuration: A is not set',
    );
  });
});

describe('helpers', () => {
  it('splits a comma-separated list, dropping blanks', () => {
    expect(list(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(list(undefined)).toEqual([]);
  });

  it.each([
    ['https://x.example', true],
    ['http://127.0.0.1:4566', true],
    ['ftp://x.example', false],
    ['x.example', false],
  ])('isHttpUrl(%s) is %s', (value, expected) => {
    expect(isHttpUrl(value)).toBe(expected);
  });
});
