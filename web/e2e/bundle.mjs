// The production bundle, checked as the gateway will serve it: no source maps (they would
// publish the sources) nor sourceMappingURL comments, no inline script or style in the page
// (the CSP forbids them), nothing that looks like a secret; prints the sizes (raw and gzip)
// that docs/BENCHMARKS.md records, and that each pre-compressed copy is its file's.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';

const dist = process.argv[2];
const files = [];
const walk = (d) => readdirSync(d).forEach((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : files.push(join(d, n))));
walk(dist);
let failed = 0;
const fail = (m) => { failed++; console.log(`not ok - ${m}`); };
const pass = (m) => console.log(`ok - ${m}`);

const maps = files.filter((f) => f.endsWith('.map'));
maps.length ? fail(`source maps in the bundle: ${maps.join(', ')}`) : pass('no source map files');
const withUrl = files.filter((f) => /\.(js|css)$/.test(f) && /sourceMappingURL=/.test(readFileSync(f, 'utf8')));
withUrl.length ? fail(`sourceMappingURL in ${withUrl.join(', ')}`) : pass('no sourceMappingURL comments');

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
const inline = scripts.filter((m) => !/\bsrc=/.test(m[1]) || m[2].trim() !== '');
inline.length ? fail(`inline scripts in index.html: ${inline.length}`) : pass(`index.html: ${scripts.length} script(s), all external`);
/<style\b|\sstyle=|\son[a-z]+=/i.test(html) ? fail('inline style or event handler attribute in index.html') : pass('no inline style or handler in index.html');

// private keys, JSON Web Tokens, the passwords the tests and ./hoso up use
const secret = /(BEGIN [A-Z ]*PRIVATE KEY|eyJ[A-Za-z0-9_-]{8,}\.eyJ|Quan-tri-vien|Mat-khau-ban-dau|HOSO_ADMIN_PASSWORD)/;
const leaks = files.filter((f) => secret.test(readFileSync(f, 'latin1')));
leaks.length ? fail(`secret-looking text in ${leaks.map((f) => relative(dist, f)).join(', ')}`) : pass('no secret-looking text');

// sizes of what is served: each file, and the .gz copy the gateway sends instead when there is one
let raw = 0, gz = 0, n = 0;
for (const f of files.filter((x) => !x.endsWith('.gz'))) {
  const b = readFileSync(f);
  const pre = files.includes(`${f}.gz`) ? readFileSync(`${f}.gz`) : null;
  if (pre && gunzipSync(pre).compare(b) !== 0) fail(`${relative(dist, f)}.gz is not ${relative(dist, f)} compressed`);
  raw += b.length;
  const g = pre ? pre.length : b.length;
  gz += g;
  n++;
  console.log(`# ${relative(dist, f)}: ${b.length} bytes, ${pre ? `${g} as served gzip` : 'served as is'}`);
}
console.log(`# bundle total: ${raw} bytes, ${gz} as served to a browser taking gzip, ${n} files`);
if (failed) {
  console.log(`${failed} failed`);
  process.exit(1);
}
