/* The copies of a form control's ARIA state leave a Select's role-less wrapper, now and later;
 * its combobox input keeps them. */
import { describe, expect, it } from 'vitest';
import { keepSelectAriaOnInputs } from './selectAria';

const select = () => {
  const d = document.createElement('div');
  d.className = 'ant-select';
  d.setAttribute('aria-required', 'true');
  d.setAttribute('aria-label', 'Giới tính');
  d.innerHTML = '<span class="ant-select-selector"><input role="combobox" aria-required="true" aria-invalid="true"></span>';
  return d;
};
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('a Select inside a required form item', () => {
  it('keeps aria-required on its input only, for selects already there and added later', async () => {
    const root = document.createElement('div');
    root.appendChild(select());
    const stop = keepSelectAriaOnInputs(root);
    root.appendChild(select());
    await tick();
    root.querySelectorAll('.ant-select').forEach((el) => {
      expect(el.hasAttribute('aria-required')).toBe(false);
      expect(el.getAttribute('aria-label')).toBe('Giới tính');
      expect(el.querySelector('input')?.getAttribute('aria-required')).toBe('true');
      expect(el.querySelector('input')?.getAttribute('aria-invalid')).toBe('true');
    });
    // set again by a re-render: taken off again
    root.querySelector('.ant-select')?.setAttribute('aria-invalid', 'true');
    await tick();
    expect(root.querySelector('.ant-select')?.hasAttribute('aria-invalid')).toBe(false);
    stop();
  });
});
