/**
 * A benchmark figure: what was measured, its baseline from the same run, the ratio between them
 * and the target the ratio must meet. Plus the table printed on stdout and the results file.
 */
import { cpus, totalmem, type as osType, release } from 'node:os';

export interface Figure {
  group: 'tap' | 'memory' | 'backfill' | 'loader' | 'incremental';
  label: string;
  value: number;
  baseline: number;
  unit: string;
  baselineLabel: string;
  /** value / baseline, or baseline / value where smaller is better and a speedup is reported. */
  ratio: number;
  ratioLabel: string;
  target?: { atLeast?: number; atMost?: number };
  met?: boolean;
  detail?: string;
}

export function figure(input: Omit<Figure, 'met'>): Figure {
  const { target, ratio } = input;
  const met =
    target === undefined
      ? undefined
      : (target.atLeast === undefined || ratio >= target.atLeast) && (target.atMost === undefined || ratio <= target.atMost);
  return { ...input, ...(met === undefined ? {} : { met }) };
}

export function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    os: `${osType()} ${release()}`,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

function format(value: number, unit: string): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

/** The figures as a fixed-width text table. */
export function table(figures: readonly Figure[]): string {
  const rows = figures.map((item) => [
    item.group,
    item.label,
    format(item.value, item.unit),
    `${format(item.baseline, item.unit)} (${item.baselineLabel})`,
    `${item.ratio.toFixed(2)} ${item.ratioLabel}`,
    item.target === undefined
      ? ''
      : `${item.target.atLeast !== undefined ? `>= ${item.target.atLeast}` : `<= ${item.target.atMost}`} ${item.met ? 'met' : 'MISSED'}`,
  ]);
  const header = ['group', 'figure', 'value', 'baseline (same run)', 'ratio', 'target'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
