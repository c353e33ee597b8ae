/* The statistics table's arithmetic and the reports' default days and periods. */
import { describe, expect, it } from 'vitest';
import { cellCount, chartText, jsonProblem, lastYearEnd, monthText, recentPeriods, rowTotal, statsChart, trendChart } from './reports';

const data = {
  cells: [
    { keys: ['1', '31-40'], count: 3n },
    { keys: ['1', '41-50'], count: 2n },
    { keys: ['2', '31-40'], count: 5n },
  ],
};

describe('statistics table', () => {
  it('finds a cell by all its keys, 0 for a cell left out', () => {
    expect(cellCount(data, ['1', '41-50'])).toBe(2n);
    expect(cellCount(data, ['2', '41-50'])).toBe(0n);
    expect(cellCount(data, ['1'])).toBe(0n);
  });
  it('adds a row over the second dimension', () => {
    expect(rowTotal(data, '1')).toBe(5n);
    expect(rowTotal(data, '2')).toBe(5n);
    expect(rowTotal(data, '3')).toBe(0n);
  });
});

describe('report days and periods', () => {
  it('the yearly forms ask for 31 December of the previous year', () => {
    expect(lastYearEnd(new Date(2026, 0, 15))).toBe('2025-12-31');
    expect(lastYearEnd(new Date(2026, 11, 31))).toBe('2025-12-31');
  });
  it('the half-year in progress, then those that have ended, newest first', () => {
    expect(recentPeriods(new Date(2026, 11, 4), 3)).toEqual(['2026-H2', '2026-H1', '2025-H2']);
    expect(recentPeriods(new Date(2026, 5, 30), 2)).toEqual(['2026-H1', '2025-H2']);
    expect(recentPeriods(new Date(2026, 6, 1), 1)).toEqual(['2026-H2']);
  });
});

describe('statistics chart', () => {
  const two = {
    dimensions: [
      { values: [{ key: '1', label: 'Nam' }, { key: '2', label: 'Nữ' }] },
      { values: [{ key: '31-40', label: '31-40' }, { key: '41-50', label: '41-50' }] },
    ],
    ...data,
  };
  it('one dimension: one series of row totals, each bar drilling into its value', () => {
    const c = statsChart(two, 1, 'Số người');
    expect(c.categories).toEqual(['Nam', 'Nữ']);
    expect(c.series).toEqual([{ name: 'Số người', data: [5, 5] }]);
    expect(c.keys).toEqual([[['1'], ['2']]]);
    expect(chartText(c, String)).toBe('Nam: 5; Nữ: 5');
  });
  it('two dimensions: a stacked series per second value, zeros left out of the text', () => {
    const c = statsChart(two, 2, 'Số người');
    expect(c.series).toEqual([{ name: '31-40', data: [3, 5] }, { name: '41-50', data: [2, 0] }]);
    expect(c.keys[1][0]).toEqual(['1', '41-50']);
    expect(chartText(c, String)).toBe('Nam — 31-40: 3; Nam — 41-50: 2; Nữ — 31-40: 5');
  });
  it('no dimension: nothing to draw', () => {
    expect(statsChart({ dimensions: [], cells: [] }, 0, 'x').series).toEqual([]);
  });
});

describe('snapshots over the months', () => {
  it('reads a month as mm/yyyy', () => {
    expect(monthText('2026-01')).toBe('01/2026');
    expect(monthText('bad')).toBe('bad');
  });
  it('draws the totals oldest first, each point opening its snapshot', () => {
    const c = trendChart([{ month: '2026-10', id: '7', total: 40 }, { month: '2026-11', id: '9', total: 42 }], 'Số người');
    expect(c.categories).toEqual(['10/2026', '11/2026']);
    expect(c.series).toEqual([{ name: 'Số người', data: [40, 42] }]);
    expect(c.keys[0][1]).toEqual(['9']);
    expect(chartText(c, String)).toBe('10/2026: 40; 11/2026: 42');
    expect(trendChart([], 'x').series).toEqual([]);
    // a month with nobody is still a point of the line
    expect(chartText(trendChart([{ month: '2026-12', id: '1', total: 0 }], 'x'), String)).toBe('12/2026: 0');
  });
});

describe('a template definition', () => {
  it('is a JSON object', () => {
    expect(jsonProblem('{"rows":[]}')).toBe('');
    expect(jsonProblem('[1]')).not.toBe('');
    expect(jsonProblem('{"rows":')).not.toBe('');
  });
});
