import { showReadableLogs } from '../../local/log-view';

const entry = (level: string, message: string) =>
  JSON.stringify({ level, message, timestamp: '2026-12-01T08:00:00.000Z', service: 'worker' });

describe('showReadableLogs', () => {
  const saved = { ...console };
  const savedEnv = { ...process.env };
  afterEach(() => {
    Object.assign(console, saved);
    process.env = { ...savedEnv };
  });

  it('while quiet, holds back routine entries and counts them, still shows warnings, errors and plain output', () => {
    // Prepare
    const lines: string[] = [];
    const logs = showReadableLogs('INFO', (line) => lines.push(line));

    // Act
    console.log(entry('INFO', 'before'));
    const resume = logs.quiet();
    console.log(entry('INFO', 'held'));
    console.log(entry('DEBUG', 'held too'));
    console.warn(entry('WARN', 'shown'));
    console.log('plain text');
    const heldBack = resume();
    console.log(entry('INFO', 'after'));

    // Assess
    expect(heldBack).toBe(2);
    expect(lines.map((line) => line.replace(/^\S+ (\S+)\s+\S+\s+/, '$1 '))).toEqual([
      'INFO before',
      'WARN shown',
      'plain text',
      'INFO after',
    ]);
  });
});
