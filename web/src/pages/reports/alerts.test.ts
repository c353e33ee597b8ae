/* An alert's kind in words: a transfer step still within its deadline is due, not overdue. */
import { describe, expect, it } from 'vitest';
import { AlertKind } from '../../api/gen/reporting_pb';
import { alertText } from './AlertsPage';

describe('alert kinds in words', () => {
  it('calls a transfer step overdue only past its deadline', () => {
    expect(alertText({ kind: AlertKind.TRANSFER_OVERDUE, daysLeft: -3 })).toBe('Điều chuyển quá hạn');
    expect(alertText({ kind: AlertKind.TRANSFER_OVERDUE, daysLeft: 13 })).toBe('Điều chuyển sắp đến hạn');
    expect(alertText({ kind: AlertKind.TRANSFER_OVERDUE, daysLeft: 0 })).toBe('Điều chuyển sắp đến hạn');
  });
  it('names the other kinds as they are', () => {
    expect(alertText({ kind: AlertKind.RETIREMENT, daysLeft: 40 })).toBe('Đến tuổi nghỉ hưu');
  });
});
