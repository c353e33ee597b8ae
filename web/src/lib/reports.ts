/* The arithmetic of a statistics table (GetStatistics gives the non-zero cells only): a cell's
 * count, a row's total over the second dimension, the report's default day, the half-year
 * periods of the compliance report. */
export interface StatsLike {
  cells: { keys: string[]; count: bigint }[];
}

/* The count of the cell with exactly these keys (0 when the service left it out). */
export function cellCount(data: StatsLike, keys: string[]): bigint {
  const c = data.cells.find((x) => x.keys.length === keys.length && x.keys.every((k, i) => k === keys[i]));
  return c ? c.count : 0n;
}

/* The total of a row: every cell whose first key is `key`, whatever the second. */
export function rowTotal(data: StatsLike, key: string): bigint {
  return data.cells.filter((x) => x.keys[0] === key).reduce((a, x) => a + x.count, 0n);
}

/* The yearly forms count people on 31 December of the previous year. */
export function lastYearEnd(today: Date): string {
  return `${today.getFullYear() - 1}-12-31`;
}

/* The half-year periods, newest first ("2026-H2"), n of them: the one in progress (reported so
 * far), then those that have ended. */
export function recentPeriods(today: Date, n: number): string[] {
  let y = today.getFullYear();
  let h = today.getMonth() >= 6 ? 2 : 1;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`${y}-H${h}`);
    if (h === 2) h = 1;
    else {
      h = 2;
      y -= 1;
    }
  }
  return out;
}
