// Every reply of the reporting service decoded by foreign decoders, many times over: a Node.js
// @grpc/grpc-js client walks each reply's wire bytes strictly (strict.js) before protobufjs
// decodes it — unary replies and every message of the streamed files (RunReport in XLSX, PDF and
// CSV, ExportSearch with its progress), which this client puts back together and reads — and the
// gateway's JSON faces of the reporting routes read by fetch. A reply field pointing into a
// returned stack frame sends leftover memory or drops the field; repeated over rounds, such a bug
// cannot pass by chance. Run by reporting.sh in two phases: `setup` (identity only: two
// districts, the transfers and reporting service clients) and the test itself.
'use strict';

const assert = require('node:assert/strict');
const { env, strictClient, strictStreamClient, step, results } = require('./strict');

const I = 'hoso.identity.v1.Identity';
const R = 'hoso.records.v1.Records';
const T = 'hoso.transfers.v1.Transfers';
const P = 'hoso.reporting.v1.Reporting';
const ROUNDS = 12;
const PEOPLE = 12; // 6 per district, every other one a woman, civil servants at work

// ---- phase 1: identity only -------------------------------------------------------------------

async function setup() {
  const id = strictClient(env('HOSO_IDENTITY_ADDR'));
  const login = await id(I, 'Login', { username: 'admin', password: env('HOSO_ADMIN_PASSWORD') });
  const admin = login.access_token;
  const rootId = login.account.unit_id;
  const unit = async (code, name) => (await id(I, 'CreateUnit', {
    parent_id: rootId, code, name, type: 'UNIT_TYPE_DISTRICT', request_id: `interop-rp-${code}`,
  }, admin)).unit;
  const a = await unit('RP-A', 'UBND huyện Lục Ngạn');
  const b = await unit('RP-B', 'UBND huyện Sơn Động');
  const client = async (name) => (await id(I, 'CreateServiceClient', {
    name, unit_ids: [rootId], approval_reference: 'CV 14/SNV-interop',
  }, admin));
  const tr = await client('transfers (interop reporting)');
  const rp = await client('reporting (interop reporting)');
  process.stdout.write(JSON.stringify({
    rootId, unitA: a.id, pathA: a.path, unitB: b.id, pathB: b.path,
    transfersId: tr.client.client_id, transfersSecret: tr.client_secret,
    reportingId: rp.client.client_id, reportingSecret: rp.client_secret,
  }));
}

// ---- phase 2: records, a transfer, the reports ---------------------------------------------------

const PDF = Buffer.from('%PDF-1.4\n% quyet dinh dieu dong\n%%EOF\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// RFC 4180: rows of fields (quoted fields may hold commas, quotes and line breaks).
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// A streamed file put back together: the first chunk names it, every chunk in order.
function joinFile(chunks, what) {
  assert.ok(chunks.length >= 1, `${what}: no chunk`);
  assert.ok(chunks[0].file_name.length > 0, `${what}: the first chunk has no file name`);
  assert.ok(chunks[0].content_type.length > 0, `${what}: the first chunk has no content type`);
  for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i].file_name, '', `${what}: chunk ${i} names the file again`);
  return { name: chunks[0].file_name, type: chunks[0].content_type, bytes: Buffer.concat(chunks.map((c) => c.chunk)) };
}

async function main() {
  const ctx = JSON.parse(env('HOSO_REPORTING_SETUP'));
  const id = strictClient(env('HOSO_IDENTITY_ADDR'));
  const rec = strictClient(env('HOSO_RECORDS_ADDR'));
  const tr = strictClient(env('HOSO_TRANSFERS_ADDR'));
  const rp = strictClient(env('HOSO_REPORTING_ADDR'));
  const rps = strictStreamClient(env('HOSO_REPORTING_ADDR'));
  const gw = env('HOSO_GATEWAY_URL');
  let admin, late;
  const ids = [];

  await step('log in; records of both districts; a transfer decided in January 2025 and never sent', async () => {
    admin = (await id(I, 'Login', { username: 'admin', password: env('HOSO_ADMIN_PASSWORD') })).access_token;
    for (let i = 0; i < PEOPLE; i++) {
      const r = (await rec(R, 'CreateRecord', {
        record: {
          managing_unit_id: i < PEOPLE / 2 ? ctx.unitA : ctx.unitB,
          full_name: `Nguyễn Thị Báo Cáo ${i}`, birth_date: `198${i % 10}-0${1 + (i % 9)}-15`,
          gender: i % 2 ? 'GENDER_FEMALE' : 'GENDER_MALE',
          employment: { category: 'CATEGORY_CIVIL_SERVANT', recruitment_date: '2010-09-01' },
        },
        request_id: `interop-rp-record-${i}`,
      }, admin)).record;
      ids.push(r.id);
    }
    late = (await tr(T, 'StartTransfer', {
      record_id: ids[0], kind: 'TRANSFER_KIND_BETWEEN_UNITS', to_unit_id: ctx.unitB,
      decision: { number: '7/QĐ-UBND', date: '2025-01-20', effective_date: '2025-01-20', issuer: 'UBND tỉnh' },
      decision_scan: { file_name: 'qd.pdf', content: PDF }, request_id: 'interop-rp-transfer',
    }, admin)).transfer;
  });

  await step('the monthly snapshot is taken without anyone asking', async () => {
    for (let i = 0; i < 600; i++) {
      const s = await rp(P, 'ListSnapshots', { page_size: 10 }, admin);
      if (s.snapshots.length >= 1) return;
      await sleep(100);
    }
    throw new Error('no snapshot after 60 s');
  });

  const half = new Date(Date.now() + 7 * 3600e3).toISOString().slice(0, 10);
  const period = `${half.slice(0, 4)}-H${half.slice(5, 7) < '07' ? 1 : 2}`;

  await step(`gRPC, ${ROUNDS} rounds: statistics, drill-down, templates, alerts, compliance, snapshots`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const s = await rp(P, 'GetStatistics', { unit_id: ctx.rootId, dimensions: ['unit', 'gender'] }, admin);
      assert.equal(Number(s.total), PEOPLE, `GetStatistics #${i}: total`);
      assert.equal(s.unit_id, ctx.rootId);
      const cells = Object.fromEntries(s.cells.map((c) => [c.keys.join('/'), Number(c.count)]));
      assert.equal(cells[`${ctx.unitA}/2`], PEOPLE / 4, `GetStatistics #${i}: women of district A`);
      assert.equal(cells[`${ctx.unitB}/1`], PEOPLE / 4, `GetStatistics #${i}: men of district B`);
      const unitDim = s.dimensions.find((d) => d.name === 'unit');
      assert.ok(unitDim.values.some((v) => v.key === ctx.unitA && v.label === 'UBND huyện Lục Ngạn'));

      const d = await rp(P, 'DrillDown', {
        unit_id: ctx.rootId, dimensions: ['unit', 'gender'], cell: [ctx.unitA, '2'], page_size: 2,
      }, admin);
      assert.equal(Number(d.total), PEOPLE / 4);
      assert.equal(d.people.length, 2);
      assert.match(d.people[0].full_name, /^Nguyễn Thị Báo Cáo \d+$/);
      const d2 = await rp(P, 'DrillDown', {
        unit_id: ctx.rootId, dimensions: ['unit', 'gender'], cell: [ctx.unitA, '2'], page_size: 2, page_token: d.next_page_token,
      }, admin);
      assert.equal(d2.people.length, PEOPLE / 4 - 2);

      const l = await rp(P, 'ListReportTemplates', {}, admin);
      assert.ok(l.templates.length >= 6, `ListReportTemplates #${i}`);
      const t = (await rp(P, 'GetReportTemplate', { code: 'BM01/BNV' }, admin)).template;
      assert.equal(t.code, 'BM01/BNV');
      assert.equal(JSON.parse(t.definition).columns.length, 40);

      const a = await rp(P, 'ListAlerts', { unit_id: ctx.rootId, within_days: 30, page_size: 500 }, admin);
      const send = a.alerts.find((x) => x.kind === 'ALERT_KIND_TRANSFER_OVERDUE' && x.subject_id === late.id);
      assert.ok(send, `ListAlerts #${i}: the overdue send`);
      assert.equal(send.record_id, ids[0]);
      assert.equal(send.due_date, '2025-02-10');
      assert.equal(send.managing_unit_path, ctx.pathA);
      assert.ok(send.days_left < 0);
      assert.deepEqual(a.notes, []);

      const c = await rp(P, 'GetComplianceReport', { unit_id: ctx.rootId, period }, admin);
      const rowA = c.units.find((u) => u.unit_id === ctx.unitA);
      assert.equal(Number(rowA.records), PEOPLE / 2, `GetComplianceReport #${i}: records of district A`);
      assert.equal(Number(rowA.transfers_overdue), 1);
      assert.ok(Number(c.total.accounts_in_use) >= 1);
      assert.deepEqual(c.notes, []);

      const sn = await rp(P, 'ListSnapshots', { page_size: 10 }, admin);
      assert.match(sn.snapshots[0].month, /^\d{4}-\d{2}$/);
    }
  });

  await step(`gRPC streams, ${ROUNDS} rounds: BM01/BNV as CSV (read back), XLSX and PDF; ExportSearch with progress`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const csv = joinFile(await rps(P, 'RunReport', {
        template: 'BM01/BNV', unit_id: ctx.rootId, format: 'FORMAT_CSV', signer_name: 'Trần Văn Ký',
      }, admin), `RunReport CSV #${i}`);
      assert.equal(csv.type.split(';')[0], 'text/csv');
      assert.deepEqual([...csv.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 byte order mark');
      const rows = parseCsv(csv.bytes.subarray(3).toString('utf8'));
      const total = rows.find((r) => r.includes('Tổng cộng'));
      assert.ok(total, `RunReport CSV #${i}: no total row`);
      const at = (label) => rows.find((r) => r.includes(label));
      const rowA = at('UBND huyện Lục Ngạn');
      const col = total.indexOf('Tổng cộng') + 2; // STT, name, quota, then "civil servants present"
      assert.equal(Number(total[col]), PEOPLE, `RunReport CSV #${i}: civil servants in total`);
      assert.equal(Number(rowA[col]), PEOPLE / 2);
      assert.equal(Number(total[col + 1]), PEOPLE / 2, 'of whom women');

      const xlsx = joinFile(await rps(P, 'RunReport', { template: 'BM01/BNV', unit_id: ctx.rootId, format: 'FORMAT_XLSX' }, admin),
        `RunReport XLSX #${i}`);
      assert.equal(xlsx.bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'an XLSX is a zip');
      assert.ok(xlsx.bytes.includes(Buffer.from('xl/worksheets/sheet1.xml')));
      const pdf = joinFile(await rps(P, 'RunReport', { template: 'BM03/BNV', unit_id: ctx.rootId, format: 'FORMAT_PDF' }, admin),
        `RunReport PDF #${i}`);
      assert.equal(pdf.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.ok(pdf.bytes.subarray(-8).toString('latin1').includes('%%EOF'));

      const msgs = await rps(P, 'ExportSearch', {
        criteria: { unit_id: ctx.rootId }, columns: ['record_id', 'full_name', 'gender', 'unit'], format: 'FORMAT_CSV',
      }, admin);
      const progress = msgs.filter((m) => m.progress);
      assert.ok(progress.length >= 2, `ExportSearch #${i}: progress first and last`);
      assert.equal(Number(progress[progress.length - 1].progress.rows_done), PEOPLE);
      assert.ok(msgs.findIndex((m) => m.file) > msgs.findIndex((m) => m.progress), 'the file after the progress');
      const file = joinFile(msgs.filter((m) => m.file).map((m) => m.file), `ExportSearch #${i}`);
      const lines = parseCsv(file.bytes.subarray(3).toString('utf8')).filter((r) => r.length > 1);
      assert.equal(lines.length, PEOPLE + 1, 'a heading and a row per person');
      assert.deepEqual(lines.slice(1).map((r) => r[0]).sort(), [...ids].sort());
    }
  });

  // The gateway decodes the service's replies with protobuf-c and answers JSON: a corrupt reply
  // becomes HTTP 500 there.
  async function http(method, url, body) {
    const res = await fetch(gw + url, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `${method} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  await step(`gateway REST, ${ROUNDS} rounds: statistics, alerts, compliance, templates`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const s = await http('POST', '/v1/statistics:query', { unitId: ctx.rootId, dimensions: ['gender'] });
      assert.equal(Number(s.total), PEOPLE);
      const a = await http('GET', `/v1/alerts?unitId=${ctx.rootId}&withinDays=30`);
      assert.ok(a.alerts.some((x) => x.kind === 'ALERT_KIND_TRANSFER_OVERDUE' && x.subjectId === late.id));
      const c = await http('GET', `/v1/compliance-report?unitId=${ctx.rootId}&period=${period}`);
      assert.equal(c.period, period);
      assert.equal(Number(c.total.records), PEOPLE);
      const t = await http('GET', '/v1/report-templates');
      assert.ok(t.templates.some((x) => x.code === 'BM04/BNV'));
    }
  });

  console.log(`1..${results.length}`);
}

(process.argv[2] === 'setup' ? setup() : main()).then(
  () => process.exit(0),
  (e) => {
    console.error(String(e && e.stack ? e.stack : e));
    process.exit(1);
  });
