/* The statistics table's arithmetic and the reports' default days and periods. */
import { describe, expect, it } from 'vitest';
import { cellCount, lastYearEnd, recentPeriods, rowTotal } from './reports';

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
