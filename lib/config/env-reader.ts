/**
 * Configuration is read and validated once per cold start. Every problem names the setting, so a
 * deployment with a missing variable fails loudly on its first invocation instead of misbehaving.
 * Secrets may be given directly (local runs) or as `<NAME>_PARAM`, the name of an SSM SecureString.
 */
import { ConfigError } from './errors';

export type Env = Record<string, string | undefined>;
/** Reads one SecureString by name; `byPath` (where available) reads the SecureStrings directly under a path, by their last name segment. */
export interface SecretResolver {
  (parameterName: string): Promise<string | undefined>;
  byPath?: (path: string) => Promise<Record<string, string>>;
}

/** Where a section records what is wrong, each problem naming the setting (or the part of it) at fault. */
export interface ProblemLog {
  /**
   * `name` is the setting (or the part of it) at fault and `message` follows it: "QUEUE_URL" "is not set".
   * A name ending in a colon introduces a statement about the setting: "LINK_API_TOKEN:" "every token must …".
   */
  problem(name: string, message: string): void;
}

export function isHttpUrl(value: string): boolean {
  try {
    return ['https:', 'http:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * The one reader every section of a function's configuration reads through: it collects every problem
 * instead of stopping at the first, so one cold start names everything an operator must fix.
 */
export class EnvReader implements ProblemLog {
  readonly #problems: string[] = [];
  readonly #causes: unknown[] = [];
  constructor(
    private readonly env: Env,
    private readonly resolveSecret: SecretResolver,
  ) {}

  /** The same problem found by two sections (a setting both read) is listed once. */
  problem(name: string, message: string): void {
    const text = `${name} ${message}`;
    if (!this.#problems.includes(text)) this.#problems.push(text);
  }

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) this.problem(name, 'is not set');
    return value ?? '';
  }

  url(name: string, fallback?: string): string {
    const value = fallback === undefined ? this.required(name) : (this.optional(name) ?? fallback);
    if (value === '') return value;
    if (!isHttpUrl(value)) this.problem(name, `must be an http(s) URL, got "${value}"`);
    return value.replace(/\/+$/, '');
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problem(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problem(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  /** `true` or `false`, as serverless.yml passes flags. */
  flag(name: string, fallback: 'true' | 'false'): boolean {
    return this.oneOf(name, ['true', 'false'] as const, fallback) === 'true';
  }

  /** `NAME` or `NAME_PARAM` is set (to anything but blanks). */
  isSet(name: string): boolean {
    return this.optional(name) !== undefined || this.optional(`${name}_PARAM`) !== undefined;
  }

  /** `NAME` directly, or `NAME_PARAM` naming an SSM SecureString. */
  async secret(name: string, { required }: { required: boolean } = { required: true }): Promise<string | undefined> {
    const direct = this.optional(name);
    if (direct !== undefined) return direct;
    const parameterName = this.optional(`${name}_PARAM`);
    if (parameterName === undefined) {
      if (required) this.problem(name, `(or ${name}_PARAM) is not set`);
      return undefined;
    }
    try {
      const value = await this.resolveSecret(parameterName);
      if (!value) this.problem(`${name}_PARAM`, `names SSM parameter "${parameterName}", which is empty`);
      return value;
    } catch (error) {
      this.problem(`${name}_PARAM:`, `cannot read SSM parameter "${parameterName}" (${(error as Error).name})`);
      this.#causes.push(error);
      return undefined;
    }
  }

  /** The SecureStrings directly under the path `NAME` holds, by their last name segment; undefined when `NAME` is unset. */
  async secretsByPath(name: string): Promise<Record<string, string> | undefined> {
    const path = this.optional(name);
    if (path === undefined) return undefined;
    if (this.resolveSecret.byPath === undefined) {
      this.problem(`${name}:`, 'SSM parameters by path cannot be read here');
      return undefined;
    }
    try {
      return await this.resolveSecret.byPath(path);
    } catch (error) {
      this.problem(`${name}:`, `cannot read the SSM parameters under "${path}" (${(error as Error).name})`);
      this.#causes.push(error);
      return undefined;
    }
  }

  /** Throws every problem recorded so far in one ConfigError (the first SSM failure as its cause). */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError([...this.#problems], { cause: this.#causes[0] });
  }
}

/**
 * A function's configuration: every section read through one reader, then every problem of the function
 * thrown together (ConfigError) or the configuration returned.
 */
export async function readConfig<T>(
  env: Env,
  resolveSecret: SecretResolver,
  readSections: (read: EnvReader) => T | Promise<T>,
): Promise<T> {
  const read = new EnvReader(env, resolveSecret);
  const config = await readSections(read);
  read.done();
  return config;
}

/** Comma-separated values, trimmed, empty ones dropped. */
export const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
