/* The dossier's labels of changed fields, the words of changed values, the tab of a refused
 * field, and the 2C print mounted without any inline style left in the markup. */
import { beforeAll, describe, expect, it } from 'vitest';
import { mountExport } from './PrintPage';
import { sectionOf } from './RecordEditPage';
import { labelOfPath } from './schema';
import { changeValue, namedValue, unitIdOf } from './Versions';
import { whoText } from '../reports/TemplatesPage';

describe('versions in words', () => {
  it('labels paths as form 2C does', () => {
    expect(labelOfPath('personal.citizen_id')).toBe('Số CCCD/CMND');
    expect(labelOfPath('work_history[2].to')).toBe('Tóm tắt quá trình công tác 3: Đến');
    expect(labelOfPath('workflow_state')).toBe('Phê duyệt');
    expect(labelOfPath('something.new')).toBe('something.new');
  });
  it('shows values in words', () => {
    expect(changeValue('"WORKFLOW_STATE_APPROVED"')).toBe('Đã phê duyệt');
    expect(changeValue('"GENDER_FEMALE"')).toBe('Nữ');
    expect(changeValue('"1985-03-12"')).toBe('12/03/1985');
    expect(changeValue('true')).toBe('Có');
    expect(changeValue('')).toBe('—');
    expect(changeValue('3')).toBe('3');
  });
  it('finds the unit id of a managing unit change (then shown by its name)', () => {
    expect(unitIdOf('3')).toBe('3');
    expect(unitIdOf('"12"')).toBe('12');
    expect(unitIdOf('')).toBe('');
    expect(unitIdOf('"Sở Y tế"')).toBe('');
  });
  it('names the managing unit and the approver where known, else shows the id', () => {
    const units = new Map([['12', 'Sở Y tế']]);
    const accounts = new Map([['40', 'Trần Văn Hùng'], ['12', 'Người trùng mã']]);
    expect(namedValue('approved_by', '"40"', units, accounts)).toBe('Trần Văn Hùng');
    expect(namedValue('approved_by', '41', units, accounts)).toBe('41'); // not one the viewer may know
    expect(namedValue('approved_by', '""', units, accounts)).toBe('—');
    expect(namedValue('managing_unit_id', '12', units, accounts)).toBe('Sở Y tế');
    expect(namedValue('personal.phone', '"40"', units, accounts)).toBe('40'); // not a person's id
    expect(labelOfPath('approved_by')).toBe('Người phê duyệt');
  });
  it('names who saved a report template', () => {
    const names = new Map([['7', 'Quản trị hệ thống']]);
    expect(whoText('7', names)).toBe('Quản trị hệ thống');
    expect(whoText('8', names)).toBe('8');
    expect(whoText('reporting', names)).toBe('Hệ thống (mẫu có sẵn)');
    expect(whoText('', names)).toBe('');
  });
  it('opens the tab that holds a refused field', () => {
    expect(sectionOf(['salary', 'step'])).toBe('employment');
    expect(sectionOf(['family', 0, 'relationCode'])).toBe('family');
    expect(sectionOf(['personal', 'citizenId'])).toBe('personal');
  });
});

describe('the 2C print', () => {
  beforeAll(() => {
    // jsdom has no constructed stylesheets: enough of them for csp/dynamicCSS.ts
    class Sheet {
      text = '';
      replaceSync(t: string) {
        this.text = t;
      }
    }
    Object.assign(globalThis, { CSSStyleSheet: Sheet });
    Object.defineProperty(document, 'adoptedStyleSheets', { value: [], writable: true });
  });
  it('keeps the look, moves styles out of the markup, runs nothing', async () => {
    const host = document.createElement('div');
    const html = '<html><head><style>body{font:12pt serif}.title{font-weight:bold}</style></head><body>' +
      '<p class="title" style="text-align:right">SƠ YẾU LÝ LỊCH</p><script>window.bad=1</script>' +
      '<td>style="not an attribute"</td></body></html>';
    mountExport(html, host);
    expect(host.querySelector('.title')?.textContent).toBe('SƠ YẾU LÝ LỊCH');
    expect((host.querySelector('.title') as HTMLElement).style.textAlign).toBe('right');
    expect(host.innerHTML).not.toMatch(/<script|<style/);
    expect(host.querySelector('[style]')?.getAttribute('style')).toBe('text-align: right;');
    expect(host.textContent).toContain('style="not an attribute"');
    const { injectedCSS } = await import('../../csp/dynamicCSS');
    expect(injectedCSS().join('')).toContain('@scope (.hoso-print)');
    expect(injectedCSS().join('')).toContain(':scope{font:12pt serif}');
  });
});
