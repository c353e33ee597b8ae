// Every package of package-lock.json must run on Debian 12's Node.js (18.19): a version whose
// "engines" asks for Node 19 or later would work on the development machines (Node 20) and fail
// on a fresh one. Exits 1 naming them.
import { readFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
const [major, minor] = [18, 19];
/* Whether a semver range admits 18.19: each "||" alternative is checked for its lower bound. */
function admits(range) {
  return range.split('||').some((alt) => {
    const a = alt.trim();
    if (a === '' || a === '*') return true;
    const m = /^(>=|\^|~)?\s*(\d+)(?:\.(\d+))?/.exec(a);
    if (!m) return true; // a form not handled here is not refused
    const [maj, min] = [Number(m[2]), Number(m[3] ?? 0)];
    if (m[1] === '>=') return maj < major || (maj === major && min <= minor);
    if (m[1] === '^') return maj === major && min <= minor;
    if (m[1] === '~') return maj === major && min === minor;
    return maj === major;
  });
}
const bad = Object.entries(lock.packages)
  .filter(([name, p]) => name && p.engines?.node && !admits(p.engines.node))
  .map(([name, p]) => `${name} (engines.node ${p.engines.node})`);
if (bad.length) {
  console.log(`not ok - packages that need a newer Node.js than Debian 12's 18.19:\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
console.log(`ok - every locked package runs on Node.js 18.19 (${Object.keys(lock.packages).length - 1} packages)`);
