/* Ant Design's Form.Item gives its control aria-required, aria-invalid and aria-describedby;
 * a Select (rc-select) puts them on its combobox input, where they belong, and also on its
 * outer <div>, which has no role — an ARIA attribute a role does not allow (axe's
 * aria-allowed-attr, seen on the edit form and the report form). rc-select fixes the list of
 * props it keeps off that div, so the copies are taken off the role-less wrappers here as they
 * appear; the input inside keeps its own. */
const MOVED = ['aria-required', 'aria-invalid', 'aria-describedby'];
const WRAPPER = '.ant-select:not([role]), .ant-select-selector:not([role])';

function clean(root: ParentNode): void {
  root.querySelectorAll(WRAPPER).forEach((el) => MOVED.forEach((a) => el.hasAttribute(a) && el.removeAttribute(a)));
}

/* Cleans what is there and keeps cleaning what comes; returns the stop function. */
export function keepSelectAriaOnInputs(root: HTMLElement): () => void {
  clean(root);
  const o = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes' && r.target instanceof Element && r.target.matches(WRAPPER)) r.target.removeAttribute(r.attributeName ?? '');
      else if (r.type === 'childList') r.addedNodes.forEach((n) => n instanceof Element && (n.matches(WRAPPER) ? clean(n.parentElement ?? root) : clean(n)));
    }
  });
  o.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: MOVED });
  return () => o.disconnect();
}
