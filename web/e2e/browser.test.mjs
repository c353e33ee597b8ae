// End-to-end scenarios of the web application in Debian's Chromium (playwright-core), against
// the real gateway, identity and records started by run.sh: first login and password change,
// search without diacritics, the dossier, an edit refused on one field, a stale edit seen from
// two browser contexts, submit and approve by two people, a PDF uploaded and previewed, a
// reader who can neither see nor call an edit, a person's change request verified by the unit,
// units and accounts screens, a session ended by the administrator, logout, the printable 2C.
// Every page is also watched for Content-Security-Policy violations. Screenshots at 1366x768.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.HOSO_GATEWAY_URL;
const adminPassword = process.env.HOSO_ADMIN_PASSWORD;
const shots = process.env.HOSO_SHOTS;
const tmp = process.env.HOSO_TMP;
const T = 30_000; // bound of every wait: the machine may be loaded

let passed = 0;
let failed = 0;
const pages = {}; // by letter, for the screenshots of a failure
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n${e.stack ?? e}`);
    for (const [k, p] of Object.entries(pages))
      await p.screenshot({ path: join(shots, `failed-${passed + failed}-${k}.png`) }).catch(() => undefined);
  }
}

// ---- setup through the gateway's Connect JSON face, as the administrator ----------------
// node:http, not fetch: Node's fetch sends Sec-Fetch-Mode like a browser, and a browser's
// login gets its tokens in cookies only, never in the body this setup reads.
function rpc(svc, method, body, token) {
  const pkg = svc === 'Identity' ? 'identity' : 'records';
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${base}/hoso.${pkg}.v1.${svc}/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          const j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (res.statusCode !== 200) reject(new Error(`${method}: ${res.statusCode} ${JSON.stringify(j)}`));
          else resolve(j);
        } catch (e) {
          reject(e);
        }
      });
    });
    req.setTimeout(T, () => req.destroy(new Error(`${method}: no answer within ${T} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

const admin = (await rpc('Identity', 'Login', { username: 'admin', password: adminPassword })).accessToken;
const me = await rpc('Identity', 'WhoAmI', {}, admin);
const root = me.account.unitId;
const syt = (await rpc('Identity', 'CreateUnit', { parentId: root, code: 'BG.SYT', name: 'Sở Y tế', type: 'UNIT_TYPE_DEPARTMENT', staffingQuota: 120 }, admin)).unit;
const bv = (await rpc('Identity', 'CreateUnit', { parentId: syt.id, code: 'BG.SYT.BVDK', name: 'Bệnh viện Đa khoa tỉnh', type: 'UNIT_TYPE_PUBLIC_SERVICE', staffingQuota: 80 }, admin)).unit;
const record = async (fullName, birthDate, gender, unit, extra = {}) =>
  (await rpc('Records', 'CreateRecord', { record: { fullName, birthDate, gender, managingUnitId: unit, employment: { category: 'CATEGORY_CIVIL_SERVANT' }, ...extra } }, admin)).record;
const an = await record('Nguyễn Văn An', '1985-03-12', 'GENDER_MALE', bv.id, { personal: { homeTown: 'Lục Nam, Bắc Giang', birthPlace: 'Bắc Giang' } });
await record('Nguyễn Văn Anh', '1990-07-01', 'GENDER_MALE', bv.id);
await record('Lê Thị Hoa', '1978-11-30', 'GENDER_FEMALE', syt.id);
const binh = await record('Trần Thị Bình', '1992-05-20', 'GENDER_FEMALE', bv.id, { personal: { phone: '0204 3854 000' } });
for (let i = 0; i < 24; i++) await record(`Hoàng Văn Thử ${i + 1}`, `19${70 + (i % 25)}-01-15`, 'GENDER_MALE', bv.id);

const FIRST = 'Mat-khau-ban-dau-2026';
const account = (username, fullName, unitId, roles, extra = {}) =>
  rpc('Identity', 'CreateAccount', { username, fullName, unitId, roles, initialPassword: FIRST, ...extra }, admin);
await account('capnhat.syt', 'Phạm Thu Trang', syt.id, ['UPDATER', 'READER']);
await account('thutruong.syt', 'Trần Văn Hùng', syt.id, ['UNIT_ADMIN', 'UPDATER', 'READER']);
await account('xem.syt', 'Vũ Minh Đức', syt.id, ['READER']);
await account('canhan.binh', 'Trần Thị Bình', bv.id, ['SELF'], { personRecordId: binh.id });

// a small but real PDF (what a scanner's PDF starts with is what the service checks)
const pdfPath = join(tmp, 'quyet-dinh-125.pdf');
writeFileSync(pdfPath, '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/MediaBox[0 0 595 842]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

// ---- the browser ------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.HOSO_CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', baseURL: base });
  ctx.setDefaultTimeout(T);
  await ctx.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
  return page;
}

async function noCspViolation(page) {
  const v = await page.evaluate(() => window.__csp);
  assert.deepEqual(v, [], `CSP violations: ${v.join('; ')}`);
}

/* After the page has settled: no spinner (bounded wait); transitions (the fade after a list
 * has loaded) are finished at once rather than caught half way. */
async function shot(page, name) {
  await page.locator('.ant-spin-spinning').first().waitFor({ state: 'detached', timeout: T }).catch(() => undefined);
  await page.screenshot({ path: join(shots, `${name}.png`), animations: 'disabled' });
}

async function login(page, username, password) {
  await page.goto('/');
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
}

async function firstLogin(page, username, newPassword) {
  await login(page, username, FIRST);
  await page.getByText('lần đăng nhập đầu tiên').waitFor();
  await page.getByLabel('Mật khẩu hiện tại').fill(FIRST);
  await page.getByLabel('Mật khẩu mới', { exact: true }).fill(newPassword);
  await page.getByLabel('Nhập lại mật khẩu mới').fill(newPassword);
  await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
  await page.getByRole('heading', { name: /Việc của tôi/ }).waitFor();
}

async function openRecord(page, id) {
  await page.goto(`/records/${id}`);
  await page.getByRole('tab', { name: 'Sơ yếu', exact: true }).waitFor();
}

const U = await newPage(); // the updater
const H = await newPage(); // the head of the department (unit administrator)
const R = await newPage(); // a reader
const S = await newPage(); // the person (SELF)
const A = await newPage(); // the system administrator
Object.assign(pages, { U, H, R, S, A });

await check('first-load: the login page of a fresh browser', async () => {
  const assets = [];
  U.on('response', (r) => {
    if (/\/assets\//.test(r.url())) assets.push(r);
  });
  const t0 = Date.now();
  await U.goto('/');
  await U.getByRole('button', { name: 'Đăng nhập' }).waitFor();
  const visible = Date.now() - t0;
  // every script and stylesheet came compressed, and these are the bytes a network carries
  let bytes = 0;
  for (const r of assets) {
    const h = await r.allHeaders();
    assert.equal(h['content-encoding'], 'gzip', `${r.url()} not compressed`);
    bytes += Number(h['content-length']);
  }
  assert.ok(assets.length >= 4, `assets: ${assets.length}`);
  console.log(`# first load: ${assets.length} assets, ${bytes} bytes on the wire (gzip)`);
  const nav = await U.evaluate(() => JSON.stringify(performance.getEntriesByType('navigation')[0]));
  const n = JSON.parse(nav);
  console.log(`# first load: login form visible after ${visible} ms; DOMContentLoaded ${Math.round(n.domContentLoadedEventEnd)} ms, load ${Math.round(n.loadEventEnd)} ms, ${n.transferSize} bytes of HTML`);
  await shot(U, '01-login');
  await noCspViolation(U);
});

await check('log in with the initial password and change it (forced at first login)', async () => {
  await login(U, 'capnhat.syt', FIRST);
  await U.getByText('lần đăng nhập đầu tiên').waitFor();
  await shot(U, '02-password-change');
  await U.getByLabel('Mật khẩu hiện tại').fill(FIRST);
  await U.getByLabel('Mật khẩu mới', { exact: true }).fill('ngan');
  await U.getByLabel('Nhập lại mật khẩu mới').fill('ngan');
  await U.getByRole('button', { name: 'Đổi mật khẩu' }).click();
  await U.getByText('Ít nhất 10 ký tự').first().waitFor();
  await U.getByLabel('Mật khẩu mới', { exact: true }).fill('Cap-nhat-Syt-2026');
  await U.getByLabel('Nhập lại mật khẩu mới').fill('Cap-nhat-Syt-2026');
  await U.getByRole('button', { name: 'Đổi mật khẩu' }).click();
  await U.getByRole('heading', { name: 'Việc của tôi — Phạm Thu Trang' }).waitFor();
  await shot(U, '03-home-updater');
  const cookies = await U.context().cookies();
  assert.ok(cookies.find((c) => c.name === 'hoso_session')?.httpOnly, 'the session cookie is HttpOnly');
  const stored = await U.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!/eyJ/.test(stored), 'no token in web storage');
  await noCspViolation(U);
});

await check('search without diacritics ("nguyen van an") and open the dossier', async () => {
  await U.getByRole('link', { name: 'Tra cứu hồ sơ' }).click();
  await U.getByLabel('Họ và tên (gõ có dấu hoặc không dấu)').fill('nguyen van an');
  await U.getByRole('button', { name: 'Tìm kiếm' }).click();
  await U.waitForURL(/name=nguyen\+van\+an/);
  const link = U.getByRole('link', { name: 'Nguyễn Văn An', exact: true });
  await link.waitFor();
  await U.getByText('12/03/1985').waitFor();
  await shot(U, '04-records-search');
  // the whole result as CSV, read page by page
  const download = U.waitForEvent('download');
  await U.getByRole('button', { name: 'Xuất kết quả (CSV)' }).click();
  const csv = await (await download).path();
  const text = (await import('node:fs')).readFileSync(csv, 'utf8');
  assert.match(text, /^\ufeffHọ và tên,Ngày sinh/);
  assert.match(text, /Nguyễn Văn An,12\/03\/1985,Nam/);
  assert.equal(text.trim().split('\r\n').length, 3, text);
  await link.click();
  await U.getByRole('heading', { name: /Nguyễn Văn An/ }).waitFor();
  await U.getByText('Lục Nam, Bắc Giang').waitFor();
  await shot(U, '05-dossier');
  await noCspViolation(U);
});

await check('edit: a bad value is shown on its field, then a good one is saved', async () => {
  await U.getByRole('button', { name: 'Sửa hồ sơ' }).click();
  const cccd = U.getByLabel('Số CCCD/CMND');
  await cccd.fill('123');
  await U.getByRole('button', { name: 'Lưu' }).click();
  const item = U.locator('.ant-form-item').filter({ has: U.getByLabel('Số CCCD/CMND') });
  await item.getByText('số CMND phải có 9 chữ số, CCCD 12 chữ số').waitFor();
  await shot(U, '06-edit-field-error');
  await cccd.fill('024085000123');
  await U.getByRole('button', { name: 'Lưu' }).click();
  await U.getByText('Đã lưu.').waitFor();
  await U.getByText('024085000123').waitFor();
  await noCspViolation(U);
});

await check('stale edit: two contexts edit, the second to save is told what changed', async () => {
  await H.goto('/'); // just so H's first login happens before; H logs in later
  await login(A, 'admin', adminPassword);
  await A.getByRole('heading', { name: /Việc của tôi/ }).waitFor();
  await U.goto(`/records/${an.id}/edit`);
  await A.goto(`/records/${an.id}/edit`);
  await U.getByLabel('Nơi sinh').waitFor();
  await A.getByLabel('Nơi sinh').fill('Thành phố Bắc Giang');
  await A.getByRole('button', { name: 'Lưu' }).click();
  await A.getByText('Đã lưu.').waitFor();
  await U.getByLabel('Điện thoại').fill('0912 345 678');
  await U.getByRole('button', { name: 'Lưu' }).click();
  await U.getByText('Hồ sơ đã thay đổi trong lúc bạn sửa').waitFor();
  await U.getByRole('alert').filter({ hasText: 'Nơi sinh' }).getByText('Thành phố Bắc Giang').waitFor();
  await shot(U, '07-stale-edit');
  await U.getByRole('button', { name: 'Tải bản mới nhất' }).click();
  await assert.doesNotReject(U.getByLabel('Nơi sinh').and(U.locator('[value="Thành phố Bắc Giang"]')).waitFor());
  await noCspViolation(U);
});

await check('submit by the updater, approve by the head of the unit', async () => {
  await openRecord(U, an.id);
  await U.getByRole('button', { name: 'Gửi phê duyệt' }).click();
  await U.getByRole('dialog').getByRole('button', { name: 'Xác nhận' }).click();
  await U.getByText('Đã gửi phê duyệt.').waitFor();
  await U.getByText('Chờ phê duyệt').first().waitFor();
  await firstLogin(H, 'thutruong.syt', 'Thu-truong-Syt-2026');
  const card = H.locator('.ant-card').filter({ hasText: 'Hồ sơ chờ phê duyệt' });
  await card.getByRole('link', { name: 'Nguyễn Văn An' }).waitFor();
  await shot(H, '08-home-head');
  await card.getByRole('link', { name: 'Nguyễn Văn An' }).click();
  await H.getByRole('button', { name: 'Phê duyệt' }).click();
  await H.getByRole('dialog').getByRole('button', { name: 'Xác nhận' }).click();
  await H.getByText('Đã phê duyệt hồ sơ.').waitFor();
  await H.getByText('Đã phê duyệt', { exact: true }).first().waitFor();
  await H.getByRole('tab', { name: 'Lịch sử thay đổi' }).click();
  await H.getByTestId('version-1').waitFor();
  await H.getByText('Phê duyệt').first().waitFor();
  await shot(H, '09-versions');
  // the record as it was at the end of a day: read only, said so
  await H.getByRole('button', { name: /^Xem hồ sơ tại ngày/ }).first().click();
  await H.getByText(/Hồ sơ như hệ thống lưu vào cuối ngày/).waitFor();
  assert.equal(await H.getByRole('button', { name: 'Sửa hồ sơ' }).count(), 0);
  await H.getByRole('button', { name: 'Về hiện tại' }).click();
  await noCspViolation(H);
});

await check('reject with a reason, and a status change with its decision', async () => {
  const hoa = await U.evaluate(async () => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('hoso_csrf='))?.slice(10) ?? '';
    const r = await fetch('/hoso.records.v1.Records/SearchRecords', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify({ name: 'le thi hoa' }) });
    return (await r.json()).records[0].id;
  });
  await openRecord(U, hoa);
  await U.getByRole('button', { name: 'Gửi phê duyệt' }).click();
  await U.getByRole('dialog').getByRole('button', { name: 'Xác nhận' }).click();
  await U.getByText('Đã gửi phê duyệt.').waitFor();
  await openRecord(H, hoa);
  await H.getByRole('button', { name: 'Trả lại' }).click();
  await H.getByRole('dialog').getByRole('button', { name: 'Xác nhận' }).click();
  await H.getByRole('dialog').getByText('Bắt buộc nhập').waitFor(); // no reason, no rejection
  await H.getByLabel('Lý do trả lại (bắt buộc)').fill('Thiếu quá trình công tác 2010–2015');
  await H.getByRole('dialog').getByRole('button', { name: 'Xác nhận' }).click();
  await H.getByText('Đã trả lại hồ sơ.').waitFor();
  await H.getByText('Bị trả lại').first().waitFor();
  await openRecord(U, hoa);
  await U.getByRole('button', { name: 'Thay đổi trạng thái' }).click();
  const dlg = U.getByRole('dialog');
  await dlg.getByLabel('Trạng thái mới').click();
  await U.getByTitle('Nghỉ hưu').click();
  await dlg.getByLabel('Số quyết định').fill('88/QĐ-SYT');
  await dlg.getByLabel('Ngày quyết định').fill('01/12/2026');
  await dlg.getByLabel('Ngày quyết định').press('Enter');
  await dlg.getByLabel('Ngày hiệu lực').fill('01/12/2026');
  await dlg.getByLabel('Ngày hiệu lực').press('Enter');
  await dlg.getByLabel('Cơ quan ban hành').fill('Sở Y tế tỉnh Bắc Giang');
  await shot(U, '10-status-change');
  await dlg.getByRole('button', { name: 'Xác nhận' }).click();
  await U.getByText('Đã thay đổi trạng thái.').waitFor();
  await U.getByText('Nghỉ hưu').first().waitFor();
  await noCspViolation(U);
  await noCspViolation(H);
});

await check('upload a PDF with progress and preview it in the page', async () => {
  await openRecord(U, an.id);
  await U.getByRole('tab', { name: 'Tài liệu', exact: true }).click();
  await U.getByLabel('Mô tả').fill('Quyết định nâng lương số 125/QĐ-SYT');
  await U.locator('input[type=file]').setInputFiles(pdfPath);
  await U.getByText('Đã tải lên.').waitFor();
  const row = U.getByRole('row').filter({ hasText: 'quyet-dinh-125.pdf' });
  await row.waitFor();
  const viewed = U.waitForResponse((r) => r.url().includes('/content?inline=1'));
  await row.getByRole('button', { name: 'Xem' }).click();
  const resp = await viewed;
  assert.equal(resp.status(), 200);
  assert.equal(resp.headers()['content-type'], 'application/pdf');
  assert.match(resp.headers()['content-disposition'], /^inline; filename="quyet-dinh-125.pdf"/);
  await U.locator('iframe.hoso-preview').waitFor();
  await shot(U, '11-attachment-preview');
  await U.keyboard.press('Escape');
  const href = await row.getByRole('link', { name: 'Tải về' }).getAttribute('href');
  const dl = await U.evaluate(async (h) => {
    const r = await fetch(h);
    return { status: r.status, disp: r.headers.get('content-disposition'), len: r.headers.get('content-length'), head: (await r.text()).slice(0, 5) };
  }, href);
  assert.equal(dl.status, 200);
  assert.match(dl.disp, /^attachment; filename="quyet-dinh-125.pdf"/);
  assert.equal(dl.head, '%PDF-');
  assert.ok(Number(dl.len) > 100);
  await noCspViolation(U);
});

await check('a reader sees no edit button, and a direct call of the edit is refused', async () => {
  await firstLogin(R, 'xem.syt', 'Xem-ho-so-Syt-2026');
  await openRecord(R, an.id);
  await R.getByRole('button', { name: 'In lý lịch 2C' }).waitFor();
  assert.equal(await R.getByRole('button', { name: 'Sửa hồ sơ' }).count(), 0);
  assert.equal(await R.getByRole('button', { name: 'Gửi phê duyệt' }).count(), 0);
  const res = await R.evaluate(async (id) => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('hoso_csrf='))?.slice(10) ?? '';
    const r = await fetch('/hoso.records.v1.Records/UpdateRecord', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ record: { id, fullName: 'Nguyễn Văn A', birthDate: '1985-03-12', gender: 'GENDER_MALE', employment: { category: 'CATEGORY_CIVIL_SERVANT' } }, expectedVersion: '99' }),
    });
    return { status: r.status, body: await r.json() };
  }, an.id);
  assert.equal(res.status, 403, JSON.stringify(res));
  assert.equal(res.body.code, 'permission_denied');
  await R.goto(`/records/${an.id}/edit`);
  await R.getByLabel('Điện thoại').fill('0000');
  await R.getByRole('button', { name: 'Lưu' }).click();
  await R.getByRole('alert').filter({ hasText: 'Bạn không có quyền' }).waitFor();
  await noCspViolation(R);
});

await check('the person declares a change (phiếu bổ sung lý lịch) and the unit approves it', async () => {
  await firstLogin(S, 'canhan.binh', 'Ca-nhan-Binh-2026');
  await S.getByRole('link', { name: 'Hồ sơ của tôi' }).first().click();
  await S.getByText('Hồ sơ của bạn (chỉ xem)').waitFor();
  await S.getByText('0204 3854 000').waitFor();
  await shot(S, '12-self-record');
  await S.getByRole('button', { name: 'Khai bổ sung lý lịch' }).click();
  await S.getByLabel('Giải trình thay đổi').fill('Tôi đổi số điện thoại di động.');
  await S.getByLabel('Điện thoại').fill('0988 111 222');
  await S.getByRole('button', { name: 'Gửi phiếu' }).click();
  await S.getByText('Đã gửi phiếu; đơn vị sẽ xác minh.').waitFor();
  await H.goto('/change-requests');
  const card = H.locator('.ant-card').filter({ hasText: 'Trần Thị Bình' });
  await card.getByText('0988 111 222').waitFor();
  await shot(H, '13-change-requests');
  await card.getByRole('button', { name: 'Xác minh, chấp thuận' }).click();
  await H.getByText('Đã chấp thuận phiếu.').waitFor();
  await openRecord(S, binh.id);
  await S.getByText('0988 111 222').waitFor();
  await noCspViolation(S);
  await noCspViolation(H);
});

await check('units: the tree, a search typed without diacritics, a unit with its quota', async () => {
  await A.goto('/units');
  await A.getByRole('tree').getByText('Ủy ban nhân dân tỉnh Bắc Giang').waitFor();
  await A.getByLabel('Tìm đơn vị theo tên (gõ không dấu được)').fill('benh vien');
  await A.getByRole('link', { name: 'Bệnh viện Đa khoa tỉnh' }).click();
  await A.getByText('BG.SYT.BVDK').waitFor();
  await A.getByText('80', { exact: true }).first().waitFor();
  await shot(A, '14-units');
  await noCspViolation(A);
});

await check('accounts: the list of a subtree; the administrator disables the reader', async () => {
  await A.goto(`/accounts?unit=${syt.id}`);
  const row = A.getByRole('row').filter({ hasText: 'xem.syt' });
  await row.waitFor();
  await shot(A, '15-accounts');
  await row.getByRole('button', { name: 'Tạm khóa' }).click();
  await A.getByRole('dialog').getByLabel('Lý do').fill('Chuyển công tác');
  await A.getByRole('dialog').getByRole('button', { name: 'Xác nhận' }).click();
  await A.getByText('Đã cập nhật tài khoản.').waitFor();
  await row.getByText('Tạm khóa').waitFor();
  await noCspViolation(A);
});

await check('a session ended by the administrator is explained on the login page', async () => {
  // the reader is still in the application; its tokens are void once the services read the
  // revocation (2 s polls), and the next call finds out
  await R.getByRole('menu').getByRole('link', { name: 'Tra cứu hồ sơ' }).click();
  const deadline = Date.now() + T;
  // a new name each round: a new query, so a real call (an answer in the cache is no test)
  for (let i = 0; !(await R.getByText('Phiên làm việc đã hết hạn hoặc đã bị thu hồi').isVisible()); i++) {
    assert.ok(Date.now() < deadline, 'the ended session was not noticed');
    await R.getByLabel('Họ và tên (gõ có dấu hoặc không dấu)').fill(`hoang ${i}`, { timeout: 2000 }).catch(() => undefined);
    await R.getByRole('button', { name: 'Tìm kiếm' }).click({ timeout: 2000 }).catch(() => undefined);
    await R.waitForTimeout(500);
  }
  await shot(R, '16-session-ended');
});

await check('the printable 2C résumé shows in the page, styled, within the CSP', async () => {
  await U.goto(`/records/${an.id}/print`);
  await U.getByTestId('print-2c').getByText('SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC').waitFor();
  await U.getByTestId('print-2c').getByText('Nguyễn Văn An', { exact: false }).first().waitFor();
  await shot(U, '17-print-2c');
  await noCspViolation(U);
});

await check('logout ends the session and says so', async () => {
  await U.goto('/');
  await U.getByRole('button', { name: 'Đăng xuất' }).click();
  await U.getByText('Bạn đã đăng xuất.').waitFor();
  const res = await U.evaluate(async () => (await fetch('/hoso.identity.v1.Identity/WhoAmI', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status);
  assert.equal(res, 401);
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
