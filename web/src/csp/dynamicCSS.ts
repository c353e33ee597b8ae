/* Stands in for rc-util's Dom/dynamicCSS (aliased in vite.config.ts): Ant Design's CSS-in-JS
 * and its rc-* components inject their styles through injectCSS/updateCSS/removeCSS. Instead of
 * <style> elements, which the gateway's Content-Security-Policy (style-src 'self') blocks, each
 * style becomes a constructed stylesheet in document.adoptedStyleSheets: only our own script can
 * make one, so the policy's guarantee (no style from injected markup) holds unchanged. The order
 * rules of the original (prepend, prependQueue with priority, append) are kept, so the cascade
 * is the one Ant Design expects. Callers get a detached <style> element as their handle. */

type Order = 'prepend' | 'prependQueue' | 'append';

export interface Options {
  attachTo?: Element;
  csp?: { nonce?: string };
  prepend?: boolean | 'queue';
  priority?: number;
  mark?: string;
  styles?: HTMLElement[];
}

interface Entry {
  node: HTMLStyleElement;
  sheet: CSSStyleSheet;
  order: Order;
  priority: number;
}

const MARK_KEY = 'rc-util-key';
const entries: Entry[] = [];
const ours = new Set<CSSStyleSheet>();

function canUseDom(): boolean {
  return typeof window !== 'undefined' && typeof document !== 'undefined' && !!document.createElement;
}

function markOf(option: Options): string {
  if (option.mark) return option.mark.startsWith('data-') ? option.mark : `data-${option.mark}`;
  return MARK_KEY;
}

function orderOf(prepend: Options['prepend']): Order {
  if (prepend === 'queue') return 'prependQueue';
  return prepend ? 'prepend' : 'append';
}

/* Keeps stylesheets that someone else adopted, after ours in the cascade as before. */
function publish(): void {
  const others = document.adoptedStyleSheets.filter((s) => !ours.has(s));
  document.adoptedStyleSheets = [...entries.map((e) => e.sheet), ...others];
}

function setText(e: Entry, css: string): void {
  e.node.textContent = css;
  try {
    e.sheet.replaceSync(css);
  } catch {
    /* a rule the browser cannot parse is dropped, as a <style> element would drop it */
  }
}

export function injectCSS(css: string, option: Options = {}): HTMLStyleElement | null {
  if (!canUseDom()) return null;
  const order = orderOf(option.prepend);
  const priority = option.priority ?? 0;
  const node = document.createElement('style');
  node.setAttribute('data-rc-order', order);
  if (order === 'prependQueue' && priority) node.setAttribute('data-rc-priority', String(priority));
  const e: Entry = { node, sheet: new CSSStyleSheet(), order, priority };
  setText(e, css);
  ours.add(e.sheet);
  let at = entries.length;
  if (order === 'prepend') {
    at = 0;
  } else if (order === 'prependQueue') {
    let last = -1;
    entries.forEach((x, i) => {
      if (x.order !== 'append' && priority >= x.priority) last = i;
    });
    at = last + 1;
  }
  entries.splice(at, 0, e);
  publish();
  return node;
}

function find(key: string, option: Options): Entry | undefined {
  const mark = markOf(option);
  return entries.find((e) => e.node.getAttribute(mark) === key);
}

export function removeCSS(key: string, option: Options = {}): void {
  if (!canUseDom()) return;
  const e = find(key, option);
  if (!e) return;
  entries.splice(entries.indexOf(e), 1);
  publish(); // while the sheet is still known as ours, so it is dropped, not kept as someone else's
  ours.delete(e.sheet);
}

export function updateCSS(css: string, key: string, option: Options = {}): HTMLStyleElement | null {
  if (!canUseDom()) return null;
  const existing = find(key, option);
  if (existing) {
    if (existing.node.textContent !== css) setText(existing, css);
    return existing.node;
  }
  const node = injectCSS(css, option);
  node?.setAttribute(markOf(option), key);
  return node;
}

export function clearContainerCache(): void {
  /* no container cache: the sheets are the document's */
}

/* For tests: the CSS text of every injected style, in cascade order. */
export function injectedCSS(): string[] {
  return entries.map((e) => e.node.textContent ?? '');
}
