/**
 * A command's sample output in a doc, kept true by a test: the fenced block after `<!-- sample: <command> (…) -->`
 * must be what the command printed. `UPDATE_DOCS=1 npx jest <test>` writes the block instead of comparing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { DEFAULT_LOCAL_PORTS, type LocalPipelineStatus } from '../../local/pipeline-admin-api';

const ROOT = path.resolve(__dirname, '../..');

/** The output as `npm start` on its default ports would print it. */
export function onDefaultPorts(output: string, status: LocalPipelineStatus): string {
  const { webhookUrl, sqs, dynamodb, capillary, line, brandLoginPage } = status.endpoints;
  const ports: [string, number][] = [
    [webhookUrl, DEFAULT_LOCAL_PORTS.webhook],
    [sqs, DEFAULT_LOCAL_PORTS.sqs],
    [dynamodb, DEFAULT_LOCAL_PORTS.dynamodb],
    [capillary.url, DEFAULT_LOCAL_PORTS.capillary],
    [line.url, DEFAULT_LOCAL_PORTS.line],
    [brandLoginPage, DEFAULT_LOCAL_PORTS.brand],
  ];
  return ports.reduce(
    (text, [url, port]) => text.replaceAll(`127.0.0.1:${new URL(url).port}`, `127.0.0.1:${port}`),
    output,
  );
}

/**
 * `volatile`: what differs from run to run (a duration, a fresh event id); compared as `…` on both sides, while
 * UPDATE_DOCS=1 writes this run's values.
 */
/** Durations a run measures (`ready in 0.9 s`, `queue drained after 1.3 s`). */
export const MEASURED_SECONDS = /(?<=(ready in|drained after) )[\d.]+ s/;

export function expectDocSample(doc: string, command: string, output: string, volatile: RegExp[] = []): void {
  const file = path.join(ROOT, doc);
  const text = readFileSync(file, 'utf8');
  const marker = text.indexOf(`<!-- sample: ${command} (`);
  if (marker < 0) throw new Error(`${doc} has no sample block for "${command}"`);
  const contentStart = text.indexOf('\n', text.indexOf('```', marker)) + 1;
  const contentEnd = text.indexOf('```', contentStart);
  const expected = output.endsWith('\n') ? output : `${output}\n`;
  if (process.env.UPDATE_DOCS === '1') {
    writeFileSync(file, `${text.slice(0, contentStart)}${expected}${text.slice(contentEnd)}`);
    return;
  }
  const masked = (sample: string) =>
    volatile.reduce((masking, pattern) => masking.replace(new RegExp(pattern.source, 'g'), '…'), sample);
  expect(masked(text.slice(contentStart, contentEnd))).toBe(masked(expected));
}
