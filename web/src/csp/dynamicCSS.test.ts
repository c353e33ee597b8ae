/* The stand-in for rc-util's dynamicCSS keeps the cascade order Ant Design relies on
 * (prepend first, prependQueue by priority after the prepended, append last), updates a style
 * in place by its key, removes it, and never puts a <style> element into the document. */
import { beforeAll, describe, expect, it } from 'vitest';

class Sheet {
  text = '';
  replaceSync(t: string) {
    this.text = t;
  }
}

beforeAll(() => {
  Object.assign(globalThis, { CSSStyleSheet: Sheet });
  Object.defineProperty(document, 'adoptedStyleSheets', { value: [], writable: true });
});

describe('constructed stylesheets instead of <style> elements', () => {
  it('orders, updates and removes like rc-util', async () => {
    const { updateCSS, removeCSS, injectedCSS } = await import('./dynamicCSS');
    const foreign = new Sheet();
    document.adoptedStyleSheets = [foreign as unknown as CSSStyleSheet];
    updateCSS('.a{}', 'a');
    updateCSS('.q1{}', 'q1', { prepend: 'queue', priority: 1 });
    updateCSS('.p{}', 'p', { prepend: true });
    updateCSS('.q0{}', 'q0', { prepend: 'queue', priority: 0 });
    updateCSS('.b{}', 'b');
    expect(injectedCSS()).toEqual(['.p{}', '.q0{}', '.q1{}', '.a{}', '.b{}']);
    updateCSS('.a{color:red}', 'a');
    expect(injectedCSS()).toEqual(['.p{}', '.q0{}', '.q1{}', '.a{color:red}', '.b{}']);
    // a mark names another attribute: a different key space
    updateCSS('.m{}', 'a', { mark: 'data-css-hash' });
    removeCSS('a');
    expect(injectedCSS()).toEqual(['.p{}', '.q0{}', '.q1{}', '.b{}', '.m{}']);
    const sheets = document.adoptedStyleSheets as unknown as Sheet[];
    expect(sheets.map((s) => s.text)).toEqual(['.p{}', '.q0{}', '.q1{}', '.b{}', '.m{}', '']);
    expect(sheets[sheets.length - 1]).toBe(foreign);
    expect(document.querySelectorAll('style')).toHaveLength(0);
  });
});
