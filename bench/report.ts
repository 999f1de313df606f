/**
 * What a benchmark hands back: its tables, one row per database (or per case), cells as printed.
 * `bench/run.ts` runs a benchmark several times and reports each numeric cell's median and spread
 * (issue 23), since one run on a shared machine says little.
 */
export type Cell = string | number | boolean;
export interface BenchTable {
  title: string;
  rows: Record<string, Cell>[];
}

/** The runs of one table, cell by cell: a number's median with its spread, anything else as the runs gave it. */
export interface AggregatedCell {
  median: number;
  min: number;
  max: number;
  /** (max − min) / |median|: 0.1 means the runs lay within 10% of the median's size. */
  spread: number;
  runs: number[];
}

/** Below this spread a figure is steady enough to compare between commits. */
export const STEADY_SPREAD = 0.1;

const NUMBER = /^-?\d+(\.\d+)?$/;

export function aggregateTables(
  runs: readonly BenchTable[][],
): { title: string; rows: Record<string, Cell | AggregatedCell>[] }[] {
  const first = runs[0] ?? [];
  return first.map((table, tableIndex) => ({
    title: table.title,
    rows: table.rows.map((row, rowIndex) =>
      Object.fromEntries(
        Object.entries(row).map(([column, cell]) => {
          const values = runs.map((run) => run[tableIndex]?.rows[rowIndex]?.[column]);
          return [column, aggregateCell(cell, values)];
        }),
      ),
    ),
  }));
}

function aggregateCell(first: Cell, values: readonly (Cell | undefined)[]): Cell | AggregatedCell {
  const numbers = values.map((value) =>
    typeof value === 'number' ? value : NUMBER.test(String(value)) ? Number(value) : Number.NaN,
  );
  if (numbers.some(Number.isNaN)) return values.every((value) => value === first) ? first : values.join(' | ');
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const min = sorted[0]!;
  const max = sorted.at(-1)!;
  return {
    median,
    min,
    max,
    spread: median === 0 ? (max === min ? 0 : Number.POSITIVE_INFINITY) : (max - min) / Math.abs(median),
    runs: numbers,
  };
}

/** A cell as a person reads it: `median (min–max, spread n%)`, marked `~` when too noisy to compare. */
export function formatCell(cell: Cell | AggregatedCell): Cell {
  if (typeof cell !== 'object') return cell;
  if (cell.runs.length === 1) return cell.median;
  const digits = Number.isInteger(cell.median) && cell.runs.every(Number.isInteger) ? 0 : 3;
  const show = (value: number) => Number(value.toFixed(digits)).toLocaleString('en-US');
  const percent = Number.isFinite(cell.spread) ? `${Math.round(cell.spread * 100)}%` : '∞';
  return `${show(cell.median)} (${show(cell.min)}–${show(cell.max)}, spread ${percent})${cell.spread > STEADY_SPREAD ? ' ~' : ''}`;
}

export function printTables(tables: readonly { title: string; rows: Record<string, Cell | AggregatedCell>[] }[]): void {
  for (const table of tables) {
    console.log(table.title);
    console.table(table.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, formatCell(v)]))));
  }
}

/** `--db=pglite|postgres`, which keeps one database; both when absent. */
export function databaseArgument(argv: readonly string[] = process.argv): string | undefined {
  return argv.find((arg) => arg.startsWith('--db='))?.slice('--db='.length);
}
