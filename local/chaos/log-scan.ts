/**
 * The logs of a run must not carry personal data or secrets. Everything the process writes to stdout
 * and stderr while a capture is on (Powertools writes its JSON logs and EMF metrics there) is scanned
 * line by line and swallowed; only the counts and a few masked examples are kept.
 */
import { createHash } from 'node:crypto';

import { logger } from '../../lib/observability/telemetry';
import type { ChaosSecrets } from './chaos-services';

/** Recognisable in any log line: every display name carries this word and a phone number. */
const DISPLAY_NAME_MARKER = 'ทดสอบ';
const escapedMarker = [...DISPLAY_NAME_MARKER]
  .map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
  .join('');

/** A LINE display name with personal data in it (people do put their phone number there). */
export function personalDisplayName(userId: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(userId).digest('hex').slice(0, 12)}`)
    .toString()
    .padStart(8, '0')
    .slice(-8);
  return `${DISPLAY_NAME_MARKER} Somchai 🌸 +66 8${digits}`;
}

export interface LogScanReport {
  lines: number;
  bytes: number;
  /** findings per kind of leaked data */
  findings: Record<string, number>;
  /** the first few offending lines, with the match masked */
  examples: string[];
}

interface Detector {
  kind: string;
  pattern: RegExp;
}

function detectorsFor(secrets: ChaosSecrets): Detector[] {
  const exactly = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g');
  return [
    { kind: 'LINE user id', pattern: /U[0-9a-f]{32}/g },
    {
      kind: 'display name',
      pattern: new RegExp(`${DISPLAY_NAME_MARKER}|${escapedMarker.replace(/\\/g, '\\\\')}`, 'g'),
    },
    { kind: 'phone number', pattern: /\+66 ?8\d{8}/g },
    // a member's mobile as the link API and the worker see it (country code, digits only), and email addresses
    { kind: 'mobile number', pattern: /\b668\d{8}\b/g },
    { kind: 'email address', pattern: /[\w.+-]+@[\w-]+\.[\w.-]+/g },
    ...secrets.channels.flatMap((channel) => [
      { kind: 'channel secret', pattern: exactly(channel.channelSecret) },
      { kind: 'channel access token', pattern: exactly(channel.channelAccessToken) },
    ]),
    { kind: 'Capillary client key', pattern: exactly(secrets.capillaryClientKey) },
    { kind: 'Capillary client secret', pattern: exactly(secrets.capillaryClientSecret) },
    { kind: 'Capillary OAuth token', pattern: /local-oauth\.[0-9a-f-]{36}/g },
  ];
}

/** Every finding of every kind: 0 for clean logs. */
export const findingsIn = (report: LogScanReport): number =>
  Object.values(report.findings).reduce((sum, count) => sum + count, 0);

const MAX_EXAMPLES = 5;

export interface LogCapture {
  /** ends the capture (once), restores the streams and the log level */
  stop(): LogScanReport;
}

/** Turns the bridge's logs on at INFO and scans everything written until stop(). */
export function captureAndScanLogs(secrets: ChaosSecrets): LogCapture {
  const detectors = detectorsFor(secrets);
  const report: LogScanReport = { lines: 0, bytes: 0, findings: {}, examples: [] };
  const scan = (text: string) => {
    report.bytes += Buffer.byteLength(text);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      report.lines += 1;
      let masked = line;
      for (const { kind, pattern } of detectors) {
        const hits = line.match(pattern)?.length ?? 0;
        if (hits === 0) continue;
        report.findings[kind] = (report.findings[kind] ?? 0) + hits;
        masked = masked.replace(pattern, `<${kind}>`);
      }
      if (masked !== line && report.examples.length < MAX_EXAMPLES) report.examples.push(masked.slice(0, 400));
    }
  };
  const streams = [process.stdout, process.stderr];
  const originalWrites = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      scan(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  const previousLevel = logger.getLevelName();
  logger.setLogLevel('INFO');
  let stopped = false;
  return {
    stop() {
      if (stopped) return report;
      stopped = true;
      logger.setLogLevel(previousLevel);
      streams.forEach((stream, index) => {
        stream.write = originalWrites[index]!;
      });
      return report;
    },
  };
}

/** Runs the action with the logs captured and scanned. */
export async function scanLogsDuring<T>(
  secrets: ChaosSecrets,
  action: () => Promise<T>,
): Promise<{ result: T; logScan: LogScanReport }> {
  const capture = captureAndScanLogs(secrets);
  try {
    return { result: await action(), logScan: capture.stop() };
  } finally {
    capture.stop();
  }
}
