// The production bundle, checked as the gateway will serve it: no source maps (they would
// publish the sources) nor sourceMappingURL comments, no inline script or style in the page
// (the CSP forbids them), nothing that looks like a secret; prints the sizes (raw and gzip)
// that docs/BENCHMARKS.md records.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

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

let raw = 0, gz = 0;
for (const f of files) {
  const b = readFileSync(f);
  raw += b.length;
  const g = gzipSync(b, { level: 9 }).length;
  gz += g;
  console.log(`# ${relative(dist, f)}: ${b.length} bytes, ${g} gzip`);
}
console.log(`# bundle total: ${raw} bytes, ${gz} gzip, ${files.length} files`);
if (failed) {
  console.log(`${failed} failed`);
  process.exit(1);
}
