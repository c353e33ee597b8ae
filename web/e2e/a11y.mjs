// Accessibility as a test: axe-core (npm, pinned in package-lock.json) run inside a page of the
// browser test, limited to the rules of names, labels and roles the issue names — every aria-*
// rule axe has, label, button-name, link-name, image-alt, select-name, input-button-name,
// duplicate-id (and its -aria and -active forms), role-img-alt, svg-img-alt. Contrast and
// layout rules are left to people looking at the screenshots.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const NAMED = ['label', 'button-name', 'link-name', 'image-alt', 'select-name', 'input-button-name', 'duplicate-id',
  'duplicate-id-aria', 'duplicate-id-active', 'role-img-alt', 'svg-img-alt', 'form-field-multiple-labels'];

/* axe's violations of those rules on the page as it is now: [{ id, help, targets: [...] }].
 * Injected by evaluation (DevTools protocol), not as a <script> element: the gateway's CSP
 * refuses inline scripts, and the page's own policy is what the test wants to keep. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  return page.evaluate(async (named) => {
    const rules = window.axe.getRules().map((r) => r.ruleId).filter((id) => id.startsWith('aria-') || named.includes(id));
    const r = await window.axe.run(document, { runOnly: { type: 'rule', values: rules }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  }, NAMED);
}

/* "screen: rule (help) at target, target" lines, one per violation: what the assertion prints. */
export function violationText(screen, vs) {
  return vs.map((v) => `${screen}: ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
}
