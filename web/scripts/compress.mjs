// Writes name.gz beside each text file of the built bundle (gzip -9) that the gateway sends to
// browsers that take gzip (gateway/static.c): the first load moves a third of the bytes.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = process.argv[2] || 'dist';
const walk = (d) => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
for (const f of walk(dist)) {
  if (!/\.(js|mjs|css|html|svg|json|txt)$/.test(f)) continue;
  const raw = readFileSync(f);
  if (raw.length < 256) continue; // a few bytes gain nothing
  writeFileSync(`${f}.gz`, gzipSync(raw, { level: 9 }));
}
