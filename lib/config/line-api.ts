/** LINE's Messaging API as every function calls it: where it is and how long one call may take. */
import { DEFAULTS } from './defaults';
import type { EnvReader } from './env-reader';

export const readLineApiBaseUrl = (read: EnvReader): string =>
  read.url('LINE_API_BASE_URL', DEFAULTS.LINE_API_BASE_URL);

/** The longest allowed wait differs by function: a function's own timeout bounds it. */
export const readLineApiTimeoutMs = (read: EnvReader, maxMs: number): number =>
  read.integer('LINE_API_TIMEOUT_MS', DEFAULTS.LINE_API_TIMEOUT_MS, 100, maxMs);
