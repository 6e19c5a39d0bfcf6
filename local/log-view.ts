/**
 * The terminal view of the local pipeline's logs. In Powertools dev mode (POWERTOOLS_DEV=true) Logger
 * writes each entry through the global console, so this view can print every JSON entry as one line,
 * in one stream (stdout): time, level, which function logged it, the message, then its own attributes.
 * The Lambda context fields every entry repeats are left out. Anything else printed passes through.
 * Call it before the handlers are imported: Powertools reads its environment when a Logger is built.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Repeated on every entry or already shown in the line's prefix. */
const CONTEXT_FIELDS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
]);

/**
 * The function an invocation belongs to, for every entry logged during it. The webhook and the worker
 * share one Powertools logger in this process (in Lambda they do not), so its function_name field only
 * tells which invocation started last.
 */
export const logSource = new AsyncLocalStorage<string>();

type LogEntry = Record<string, unknown> & { level: string; message: string };

function parseEntry(text: string): LogEntry | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(text) as Partial<LogEntry>;
    return typeof value.level === 'string' && typeof value.message === 'string' ? (value as LogEntry) : undefined;
  } catch {
    return undefined;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'object' && value !== null && 'name' in value && 'message' in value) {
    return JSON.stringify(`${String(value.name)}: ${String(value.message)}`); // Powertools' error format
  }
  return JSON.stringify(value);
}

function formatEntry(entry: LogEntry): string {
  const time = typeof entry.timestamp === 'string' ? entry.timestamp.slice(11, 23) : '';
  const source = logSource.getStore() ?? String(entry.service ?? '');
  const attributes = Object.entries(entry)
    .filter(([name, value]) => !CONTEXT_FIELDS.has(name) && value !== undefined)
    .map(([name, value]) => `${name}=${formatValue(value)}`);
  return [time, entry.level.padEnd(5), source.padEnd(14), entry.message, ...attributes].join(' ');
}

export interface ReadableLogs {
  /**
   * Until the returned function is called, only WARN and ERROR entries are shown (the demo's report is not buried
   * under the routine ones); it returns how many entries were held back. Other console output always passes.
   */
  quiet(): () => number;
}

const ALWAYS_SHOWN = new Set(['WARN', 'ERROR', 'CRITICAL']);

/** Sets Powertools up for a terminal and routes the console through the one-line view. */
export function showReadableLogs(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): ReadableLogs {
  let heldBack: number | undefined;
  Object.assign(process.env, {
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_LOG_LEVEL: level,
    // EMF metrics are for CloudWatch; locally they would only clutter the stream.
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    console[method] = (...args: unknown[]) => {
      const entry = args.length === 1 && typeof args[0] === 'string' ? parseEntry(args[0]) : undefined;
      if (entry && heldBack !== undefined && !ALWAYS_SHOWN.has(entry.level)) {
        heldBack += 1;
        return;
      }
      write(entry ? formatEntry(entry) : format(...args));
    };
  }
  return {
    quiet: () => {
      heldBack = 0;
      return () => {
        const count = heldBack ?? 0;
        heldBack = undefined;
        return count;
      };
    },
  };
}
