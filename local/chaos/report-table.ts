import { alignColumns } from '../text-table';

/** The two-column tables the chaos and fuzz runs print: a label and a figure per line. */
export type TableRow = [label: string, value: string | number];

const formatNumber = (value: number) => value.toLocaleString('en-US');

const percent = (part: number, whole: number): string =>
  whole === 0 ? '0 %' : `${((100 * part) / whole).toFixed(1)} %`;

/** "1,234 (12.5 %)" */
export const countWithShare = (part: number, whole: number): string =>
  `${formatNumber(part)} (${percent(part, whole)})`;

export function formatTable(title: string, rows: TableRow[]): string {
  const lines = alignColumns(
    rows.map(([label, value]) => [label, typeof value === 'number' ? formatNumber(value) : value]),
  );
  return [title, ...lines.map((line) => `  ${line}`)].join('\n');
}
