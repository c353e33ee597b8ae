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

/* A statistics answer as a bar chart: one bar per value of the first dimension; with a second
 * dimension, one stacked series per value of it. `keys[s][c]` are the cell keys a bar segment
 * drills into, so a click on the chart opens the same people as the table's count. */
export interface ChartData {
  categories: string[];
  series: { name: string; data: number[] }[];
  keys: string[][][];
}

export interface StatsShape extends StatsLike {
  dimensions: { values: { key: string; label: string }[] }[];
}

export function statsChart(data: StatsShape, ndims: number, countLabel: string): ChartData {
  const [d1, d2] = data.dimensions.slice(0, ndims);
  if (!d1) return { categories: [], series: [], keys: [] };
  const categories = d1.values.map((v) => v.label);
  if (!d2 || ndims < 2)
    return {
      categories,
      series: [{ name: countLabel, data: d1.values.map((v) => Number(rowTotal(data, v.key))) }],
      keys: [d1.values.map((v) => [v.key])],
    };
  return {
    categories,
    series: d2.values.map((c) => ({ name: c.label, data: d1.values.map((v) => Number(cellCount(data, [v.key, c.key]))) })),
    keys: d2.values.map((c) => d1.values.map((v) => [v.key, c.key])),
  };
}

/* What a screen reader (and the browser test) reads of a chart: every bar with its count,
 * "Nam: 1; Nữ: 3" or "Nam — 31-40: 2; …", empty stacked segments left out. */
export function chartText(c: ChartData, number: (n: number) => string): string {
  const parts: string[] = [];
  c.categories.forEach((cat, i) => {
    for (const s of c.series) {
      const n = s.data[i];
      if (!n && c.series.length > 1) continue; // an empty stacked segment; a lone series shows its zeros
      parts.push(c.series.length > 1 || c.keys[0]?.[i]?.length === 2 ? `${cat} — ${s.name}: ${number(n)}` : `${cat}: ${number(n)}`);
    }
  });
  return parts.join('; ');
}

/* "2026-12" as a person reads it: "12/2026". */
export function monthText(m: string): string {
  const x = /^(\d{4})-(\d{2})$/.exec(m);
  return x ? `${x[2]}/${x[1]}` : m;
}

/* Totals over the months (oldest first) as a one-series chart; a point drills into its snapshot. */
export function trendChart(points: { month: string; id: string; total: number }[], countLabel: string): ChartData {
  return {
    categories: points.map((p) => monthText(p.month)),
    series: points.length ? [{ name: countLabel, data: points.map((p) => p.total) }] : [],
    keys: [points.map((p) => [p.id])],
  };
}

/* Why a template's definition is not a JSON object ('' when it is): said before the service is
 * asked, which checks the rest (docs/REPORT_TEMPLATES.md). */
export function jsonProblem(text: string): string {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? '' : 'không phải một đối tượng { … }';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
