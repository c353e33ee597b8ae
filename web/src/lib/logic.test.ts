/* Unit tests of the UI's pure logic: the error → field mapping, dates, diacritics-free
 * matching, the search filters in the URL, role rights, the CSRF cookie, upload checks. */
import { Code, ConnectError } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { csrfToken } from '../api/csrf';
import { errorText, fieldErrors, fieldPathOf, ruleText } from '../api/errors';
import { Role } from '../api/gen/common_pb';
import { dateText, isoOf, numberText, timeText, totalText, vnDay } from './format';
import { fold, matchesWords } from './fold';
import { grantableRoles, mayManageHolder, rightsOf } from './roles';
import { emptyFilters, filtersToParams, parseFilters, toRequest, csvLine } from './searchQuery';
import { precheck, MAX_UPLOAD } from './upload';

describe('service errors on form fields', () => {
  it('maps a field path under record to the form name, arrays included', () => {
    expect(fieldPathOf('record.employment.rank_code: unknown code "X" in catalogue RANK')).toEqual(['employment', 'rankCode']);
    expect(fieldPathOf('record.family[1].relation_code: unknown code "X"')).toEqual(['family', 1, 'relationCode']);
    expect(fieldPathOf('record.full_name: must be given')).toEqual(['fullName']);
  });
  it('refuses paths outside the form and messages without a path', () => {
    expect(fieldPathOf('expected_version: stale')).toBeNull();
    expect(fieldPathOf('record was changed by someone else (now version 4); reload and retry')).toBeNull();
    expect(fieldPathOf('proposed.personal.phone: too long', 'proposed')).toEqual(['personal', 'phone']);
  });
  it('says the rule in Vietnamese, keeping what it does not know', () => {
    expect(ruleText('record.personal.citizen_id: must be 9 (CMND) or 12 (CCCD) digits')).toBe('số CMND phải có 9 chữ số, CCCD 12 chữ số');
    expect(ruleText('record.personal.ethnicity_code: unknown code "99" in catalogue ETHNICITY')).toBe('mã "99" không có trong danh mục Dân tộc');
    expect(ruleText('x: something new')).toBe('something new');
  });
  it('turns INVALID_ARGUMENT into a field error and other codes into a sentence', () => {
    const e = new ConnectError('record.salary.step: must be a salary step from 1 to 20', Code.InvalidArgument);
    expect(fieldErrors(e)).toEqual([{ name: ['salary', 'step'], errors: ['bậc lương phải từ 1 đến 20'] }]);
    expect(fieldErrors(new ConnectError('no', Code.PermissionDenied))).toBeNull();
    expect(errorText(new ConnectError('updating records needs the UPDATER role', Code.PermissionDenied))).toMatch(/^Bạn không có quyền/);
    expect(errorText(new ConnectError('record was changed', Code.Aborted))).toMatch(/người khác sửa/);
  });
});

describe('dates and numbers', () => {
  it('shows ISO dates as dd/mm/yyyy and months as mm/yyyy', () => {
    expect(dateText('1985-03-12')).toBe('12/03/1985');
    expect(dateText('2020-09')).toBe('09/2020');
    expect(dateText('')).toBe('');
  });
  it('reads what a person types back into ISO', () => {
    expect(isoOf('1/2/2003')).toBe('2003-02-01');
    expect(isoOf('09/2020')).toBe('2020-09');
    expect(isoOf('2020-09-01')).toBe('2020-09-01');
    expect(isoOf('hôm qua')).toBe('hôm qua');
  });
  it('shows times in the zone of the browser', () => {
    expect(timeText('2026-01-02T03:04:00Z')).toMatch(/^\d\d\/\d\d\/2026 \d\d:\d\d$/);
  });
  it('takes the day in Vietnam of a time, whatever the zone it is written in', () => {
    expect(vnDay('2026-12-05T19:51:00Z')).toBe('2026-12-06');
    expect(vnDay('2026-12-05T16:59:59Z')).toBe('2026-12-05');
    expect(vnDay('2026-12-06T02:51:00+07:00')).toBe('2026-12-06');
    expect(vnDay('2024-02-28T17:00:00Z')).toBe('2024-02-29');
    expect(vnDay('không phải thời điểm')).toBe('');
  });
  it('groups thousands with dots', () => {
    expect(numberText(2340000n)).toBe('2.340.000');
    expect(numberText(12)).toBe('12');
    expect(totalText({ total: 1000n, totalIsLowerBound: true })).toBe('hơn 1.000');
    expect(totalText({ total: 1000n, totalIsLowerBound: false })).toBe('1.000');
  });
});

describe('Vietnamese without diacritics', () => {
  it('folds every mark and đ', () => {
    expect(fold('Nguyễn Văn Đức')).toBe('nguyen van duc');
    expect(fold('BỆNH  VIỆN')).toBe('benh vien');
  });
  it('matches word prefixes', () => {
    expect(matchesWords('Bệnh viện Đa khoa tỉnh', 'benh vien')).toBe(true);
    expect(matchesWords('Bệnh viện Đa khoa tỉnh', 'da kh')).toBe(true);
    expect(matchesWords('Sở Y tế', 'benh')).toBe(false);
  });
});

describe('search filters in the URL', () => {
  it('round-trips every criterion', () => {
    const f = { ...emptyFilters, name: 'nguyen van an', unitId: '7', statuses: [1, 4], workflowStates: [2], gender: 2, birthFrom: '1980-01-01',
      rankCodes: ['01.003'], party: 1, order: 2, pageSize: 50, pageToken: 'abc' };
    expect(parseFilters(filtersToParams(f))).toEqual(f);
  });
  it('leaves empty criteria out and drops what is not valid', () => {
    expect(filtersToParams(emptyFilters).toString()).toBe('');
    const p = parseFilters(new URLSearchParams('status=1,9,x&gender=7&bfrom=12/03/1985&ps=9999'));
    expect(p.statuses).toEqual([1]);
    expect(p.gender).toBe(0);
    expect(p.birthFrom).toBe('');
    expect(p.pageSize).toBe(20);
  });
  it('builds the request with NFC text', () => {
    const r = toRequest({ ...emptyFilters, name: 'Nguye\u0302\u0303n' });
    expect(r.name).toBe('Nguyễn');
  });
  it('quotes CSV cells that need it', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"'])).toBe('a,"b,c","say ""hi"""\r\n');
  });
});

describe('roles', () => {
  it('gives each role its rights', () => {
    expect(rightsOf([Role.READER])).toMatchObject({ read: true, update: false, approve: false, manageAccounts: false });
    expect(rightsOf([Role.UNIT_ADMIN])).toMatchObject({ approve: true, manageAccounts: true, update: false });
    expect(rightsOf([Role.SELF])).toMatchObject({ read: false, self: true });
  });
  it('grants only roles one holds, unless system administrator (003 Đ4.1)', () => {
    expect(grantableRoles([Role.UNIT_ADMIN, Role.READER])).toEqual([Role.UNIT_ADMIN, Role.READER]);
    expect(grantableRoles([Role.SYSTEM_ADMIN])).toHaveLength(5);
    expect(mayManageHolder([Role.UNIT_ADMIN], [Role.SYSTEM_ADMIN])).toBe(false);
    expect(mayManageHolder([Role.UNIT_ADMIN, Role.READER], [Role.READER])).toBe(true);
  });
});

describe('session and uploads', () => {
  it('reads the CSRF cookie among others', () => {
    expect(csrfToken('a=1; hoso_csrf=XyZ-_0; b=2')).toBe('XyZ-_0');
    expect(csrfToken('hoso_csrf_old=1')).toBe('');
  });
  it('checks size and type before sending', () => {
    expect(precheck({ size: MAX_UPLOAD + 1, type: 'application/pdf', name: 'a.pdf' })).toBe('tooLarge');
    expect(precheck({ size: 10, type: 'application/msword', name: 'a.doc' })).toBe('badType');
    expect(precheck({ size: 10, type: '', name: 'scan.PNG' })).toBeNull();
  });
});
