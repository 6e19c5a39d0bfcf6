/**
 * Lines of aligned columns: every column is padded to its widest cell (the last one too with
 * `padLast`, for Markdown). The replay report, the chaos/fuzz tables and the benchmark's Markdown
 * tables are all built on it.
 */
export function alignColumns(
  rows: readonly (readonly string[])[],
  { separator = '  ', padLast = false } = {},
): string[] {
  const widths = rows.reduce<number[]>(
    (max, row) => row.map((cell, index) => Math.max(max[index] ?? 0, cell.length)),
    [],
  );
  return rows.map((row) => {
    const line = row
      .map((cell, index) => (index < row.length - 1 || padLast ? cell.padEnd(widths[index] ?? 0) : cell))
      .join(separator);
    return padLast ? line : line.trimEnd();
  });
}
