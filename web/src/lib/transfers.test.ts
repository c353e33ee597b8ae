/* Unit tests of the transfer screens' logic (which side may do what, days left, this week's
 * deadlines), the import batches (cut at record boundaries, error lines back to the file's)
 * and the scan checks. */
import { describe, expect, it } from 'vitest';
import { TransferKind as K, TransferState as S } from '../api/gen/transfers_pb';
import { csvRecords, fileLine, splitCsv, splitJson } from './importBatches';
import { actionsFor, daysLeftText, dueByWeekEnd, needsReason, weekEnd, type Side } from './transfers';
import { MAX_SCAN, precheckScan } from './upload';

const sides = (...s: Side[]) => new Set<Side>(s);

describe('who may do what on a transfer (flow.c, side by side)', () => {
  it('the sending unit sends or cancels a started transfer; the receiving unit has nothing yet', () => {
    expect(actionsFor(K.BETWEEN_UNITS, S.STARTED, sides('from'))).toEqual(['send', 'cancel']);
    expect(actionsFor(K.BETWEEN_UNITS, S.STARTED, sides('to'))).toEqual([]);
  });
  it('once sent, the receiving unit receives or rejects, the sender may still withdraw', () => {
    expect(actionsFor(K.BETWEEN_UNITS, S.SENT, sides('to'))).toEqual(['receive', 'reject']);
    expect(actionsFor(K.BETWEEN_UNITS, S.SENT, sides('from'))).toEqual(['cancel']);
    expect(actionsFor(K.PULL, S.SENT, sides('to'))).toEqual(['receive', 'reject']);
  });
  it('a unit above both sides (a system administrator) is offered both', () => {
    expect(actionsFor(K.BETWEEN_UNITS, S.SENT, sides('from', 'to'))).toEqual(['receive', 'reject', 'cancel']);
  });
  it('out of the system: no one receives; the sender exports the package', () => {
    expect(actionsFor(K.OUT_OF_SYSTEM, S.SENT, sides('from', 'to'))).toEqual(['export', 'cancel']);
  });
  it('a pull is answered by the managing unit and withdrawn by the one that asked', () => {
    expect(actionsFor(K.PULL, S.REQUESTED, sides('from'))).toEqual(['approve', 'refuse']);
    expect(actionsFor(K.PULL, S.REQUESTED, sides('to'))).toEqual(['cancel']);
  });
  it('forward after receipt; the final unit receives or rejects', () => {
    expect(actionsFor(K.BETWEEN_UNITS, S.RECEIVED, sides('to'))).toEqual(['forward', 'cancel']);
    expect(actionsFor(K.BETWEEN_UNITS, S.FORWARDED, sides('final'))).toEqual(['receive', 'reject']);
    expect(actionsFor(K.BETWEEN_UNITS, S.FORWARDED, sides('to'))).toEqual(['cancel']);
  });
  it('a secondment is ended early by the sending unit; final states offer nothing', () => {
    expect(actionsFor(K.SECONDMENT, S.SECONDED, sides('from'))).toEqual(['cancel']);
    for (const st of [S.COMPLETED, S.REJECTED, S.CANCELLED, S.REFUSED, S.ENDED, S.EXPORTED, S.IMPORTED])
      expect(actionsFor(K.BETWEEN_UNITS, st, sides('from', 'to', 'final'))).toEqual([]);
  });
  it('rejections, refusals and cancellations need a reason', () => {
    expect(['reject', 'refuse', 'cancel'].every((a) => needsReason(a as never))).toBe(true);
    expect(needsReason('receive')).toBe(false);
  });
});

describe('deadlines in words and weeks', () => {
  it('says the working days left, the due day, and how late', () => {
    expect(daysLeftText('2026-03-10', 3)).toBe('Còn 3 ngày làm việc');
    expect(daysLeftText('2026-03-10', 0)).toBe('Đến hạn hôm nay');
    expect(daysLeftText('2026-03-10', -2)).toBe('Quá hạn 2 ngày làm việc');
    expect(daysLeftText('', 0)).toBe('Không quy định thời hạn');
  });
  it('finds the Sunday that ends the week', () => {
    expect(weekEnd('2026-03-04')).toBe('2026-03-08'); // a Wednesday
    expect(weekEnd('2026-03-08')).toBe('2026-03-08'); // a Sunday ends its own week
    expect(weekEnd('2026-03-09')).toBe('2026-03-15'); // a Monday
    expect(weekEnd('2025-12-29')).toBe('2026-01-04'); // across a year
  });
  it('keeps the overdue and those due by Sunday', () => {
    const xs = [
      { dueDate: '2026-02-20', overdue: true }, { dueDate: '2026-03-06', overdue: false },
      { dueDate: '2026-03-09', overdue: false }, { dueDate: '', overdue: false },
    ];
    expect(dueByWeekEnd(xs, '2026-03-04').map((x) => x.dueDate)).toEqual(['2026-02-20', '2026-03-06']);
  });
});

describe('import batches', () => {
  const csv = 'full_name,birth_date\n"Nguyễn Văn\nAn",1980-01-01\n\nLê Thị Hoa,1981-02-02\r\nTrần Bình,1982-03-03';
  it('reads CSV records with the line each starts on, a quoted line break inside one', () => {
    const r = csvRecords(csv);
    expect(r.map((x) => x.line)).toEqual([1, 2, 4, 5, 6]);
    expect(r[1].lines).toBe(2);
  });
  it('cuts rows into batches, each with the header, and maps a batch line back to the file', () => {
    const sp = splitCsv(`\ufeff${csv}`, 1_000_000, 1);
    expect(sp.batches.map((b) => b.rows)).toEqual([1, 1, 1]);
    expect(sp.batches.every((b) => b.text.startsWith('full_name,birth_date\n'))).toBe(true);
    expect(sp.batches.map((b) => b.first)).toEqual([2, 5, 6]);
    // the service counts the header as line 1 and the batch's first row from line 2
    expect(fileLine(sp, sp.batches[1], 2)).toBe(5);
    expect(fileLine(sp, sp.batches[2], 2)).toBe(6);
    expect(fileLine(sp, sp.batches[2], 1)).toBe(1);
    const one = splitCsv(csv);
    expect(one.batches).toHaveLength(1);
    // the blank line 4 is kept as a blank line, so the rows keep the file's numbers
    expect(fileLine(one, one.batches[0], 5)).toBe(5);
    expect(one.batches[0].text.split('\n').length).toBe(csv.split('\n').length + 1);
  });
  it('cuts by size too', () => {
    const big = `a\n${Array.from({ length: 50 }, (_, i) => `row ${i}`).join('\n')}\n`;
    const sp = splitCsv(big, 100, 1000);
    expect(sp.batches.length).toBeGreaterThan(3);
    expect(sp.batches.reduce((n, b) => n + b.rows, 0)).toBe(50);
    expect(sp.batches.every((b) => new TextEncoder().encode(b.text).length <= 100)).toBe(true);
  });
  it('cuts a JSON array by elements, numbering records across batches', () => {
    const sp = splitJson(JSON.stringify([{ fullName: 'A' }, { fullName: 'B' }, { fullName: 'C' }]), 1_000_000, 2);
    expect(sp.batches.map((b) => JSON.parse(b.text).length)).toEqual([2, 1]);
    expect(fileLine(sp, sp.batches[1], 1)).toBe(3);
  });
  it('cuts JSON Lines by lines, keeping physical line numbers', () => {
    const sp = splitJson('{"fullName":"A"}\n\n{"fullName":"B"}\n{"fullName":"C"}\n', 1_000_000, 2);
    expect(sp.mode).toBe('lines');
    expect(fileLine(sp, sp.batches[0], 3)).toBe(3);
    expect(fileLine(sp, sp.batches[1], 1)).toBe(4);
  });
  it('refuses a JSON array that does not parse', () => {
    expect(() => splitJson('[{"a":1},')).toThrow();
  });
});

describe('scans sent with a transfers request', () => {
  it('takes PDF, JPEG, PNG up to 3 MiB', () => {
    expect(precheckScan({ size: MAX_SCAN, type: 'application/pdf', name: 'qd.pdf' })).toBeNull();
    expect(precheckScan({ size: MAX_SCAN + 1, type: 'application/pdf', name: 'qd.pdf' })).toBe('scanTooLarge');
    expect(precheckScan({ size: 10, type: 'application/zip', name: 'qd.zip' })).toBe('badType');
  });
});
