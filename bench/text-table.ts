// Bench output: aligned text tables (first column left, the rest right)
// and the percentiles they show.

export function printTable(title: string, header: readonly string[], rows: readonly (readonly string[])[], notes: readonly string[] = []): void {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join("  ");
  console.log(`[bench] ${title}`);
  console.log(`  ${line(header)}`);
  for (const row of rows) console.log(`  ${line(row)}`);
  for (const note of notes) console.log(`  ${note}`);
}

/** The q-quantile of samples (sorted in place). */
export function quantile(samples: Float64Array | number[], q: number): number {
  const sorted = samples instanceof Float64Array ? samples.sort() : samples.sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** `a / b` as "12.3×", or "–" when either is missing. */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "–";
  const value = a / b;
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(value >= 1 ? 1 : 2)}×`;
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
