type Cell = string | number;

/** A Markdown table with padded columns: readable in a terminal and pasteable into the README as is. */
export function renderTable(title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, column) => Math.max(...text.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const [head = [], ...body] = text;
  return [`### ${title}`, '', line(head), line(widths.map((width) => '-'.repeat(width))), ...body.map(line), ''].join('\n');
}
