import { alignColumns } from '../local/text-table';

type Cell = string | number;

/** A Markdown table with padded columns: readable in a terminal and pasteable into the README as is. */
export function renderTable(title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, column) => Math.max(...text.map((row) => row[column]?.length ?? 0)));
  const rule = widths.map((width) => '-'.repeat(width));
  const lines = alignColumns([headers, rule, ...text.slice(1)], { separator: ' | ', padLast: true });
  return [`### ${title}`, '', ...lines.map((line) => `| ${line} |`), ''].join('\n');
}
