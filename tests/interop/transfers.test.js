// A whole transfer driven by a Node.js @grpc/grpc-js client against the real identity, records
// and transfers services, every reply decoded strictly (strict.js): units, updaters and the
// transfers service client made through identity; then, round after round, a record created in
// unit A, a transfer started with its decision's scan, sent, received by unit B; the record moved
// (read by B, refused to A); lists, deadlines, notices, policy, calendar and its arithmetic.
// Run by transfers.sh in two phases: `setup` (identity only) and the test.
'use strict';

const assert = require('node:assert/strict');
const { env, strictClient, step, results } = require('./strict');

const I = 'hoso.identity.v1.Identity';
const R = 'hoso.records.v1.Records';
const T = 'hoso.transfers.v1.Transfers';
const ROUNDS = 10;

// ---- phase 1: identity only -------------------------------------------------------------------

async function setup() {
  const id = strictClient(env('HOSO_IDENTITY_ADDR'));
  const login = await id(I, 'Login', { username: 'admin', password: env('HOSO_ADMIN_PASSWORD') });
  const admin = login.access_token;
  const rootId = login.account.unit_id;
  const unit = async (code, name) => (await id(I, 'CreateUnit', {
    parent_id: rootId, code, name, type: 'UNIT_TYPE_DISTRICT', request_id: `interop-tr-${code}`,
  }, admin)).unit;
  const a = await unit('TR-A', 'UBND huyện Lạng Giang');
  const b = await unit('TR-B', 'UBND huyện Tân Yên');
  const temp = 'Tam-thoi-2026!aA';
  const pw = {};
  for (const [user, u] of [['tr.a.capnhat', a], ['tr.b.capnhat', b]]) {
    await id(I, 'CreateAccount', {
      username: user, full_name: 'Cán Bộ Cập Nhật', unit_id: u.id, roles: ['UPDATER'], initial_password: temp,
    }, admin);
    const first = await id(I, 'Login', { username: user, password: temp });
    pw[user] = `Mat-khau-${u.code}-2026!`;
    await id(I, 'ChangePassword', { old_password: temp, new_password: pw[user] }, first.access_token);
  }
  const sc = await id(I, 'CreateServiceClient', {
    name: 'transfers (interop)', unit_ids: [rootId], approval_reference: 'CV 13/SNV-interop',
  }, admin);
  process.stdout.write(JSON.stringify({
    unitA: a.id, unitB: b.id, pw, clientId: sc.client.client_id, clientSecret: sc.client_secret,
  }));
}

// ---- phase 2: the transfers --------------------------------------------------------------------


const PDF = Buffer.from('%PDF-1.4\n% quyet dinh dieu dong\n%%EOF\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const ctx = JSON.parse(env('HOSO_TRANSFERS_SETUP'));
  const id = strictClient(env('HOSO_IDENTITY_ADDR'));
  const rec = strictClient(env('HOSO_RECORDS_ADDR'));
  const tr = strictClient(env('HOSO_TRANSFERS_ADDR'));
  let a, b;

  await step('log in: the updaters of unit A and unit B', async () => {
    a = (await id(I, 'Login', { username: 'tr.a.capnhat', password: ctx.pw['tr.a.capnhat'] })).access_token;
    b = (await id(I, 'Login', { username: 'tr.b.capnhat', password: ctx.pw['tr.b.capnhat'] })).access_token;
  });

  // Polls GetTransfer (bounded) until records has the move.
  const delivered = async (tid, tok) => {
    for (let i = 0; i < 600; i++) {
      const t = (await tr(T, 'GetTransfer', { transfer_id: tid }, tok)).transfer;
      if (t.delivered) return t;
      await sleep(100);
    }
    throw new Error(`transfer ${tid} not delivered within 60 s`);
  };

  await step(`gRPC, ${ROUNDS} rounds: create, start (with scan), send, receive; the record moved`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const r = (await rec(R, 'CreateRecord', {
        record: {
          managing_unit_id: ctx.unitA, full_name: `Nguyễn Thị Chuyển ${i}`, birth_date: '1988-08-08',
          gender: 'GENDER_FEMALE', employment: { category: 'CATEGORY_CIVIL_SERVANT' },
        },
        request_id: `interop-tr-rec-${i}`,
      }, a)).record;
      let t = (await tr(T, 'StartTransfer', {
        record_id: r.id, kind: 'TRANSFER_KIND_BETWEEN_UNITS', to_unit_id: ctx.unitB,
        decision: { number: `${50 + i}/QĐ-UBND`, date: '2026-01-05', effective_date: '2026-01-05', issuer: 'UBND tỉnh' },
        decision_scan: { file_name: 'qd.pdf', content: PDF }, request_id: `interop-tr-start-${i}`,
      }, a)).transfer;
      assert.equal(t.state, 'TRANSFER_STATE_STARTED');
      assert.equal(t.record_name, `Nguyễn Thị Chuyển ${i}`);
      assert.equal(t.steps.length, 1);
      assert.equal(t.steps[0].kind, 'STEP_KIND_SEND');
      assert.match(t.steps[0].due_date, /^\d{4}-\d{2}-\d{2}$/);
      assert.equal(t.documents.length, 1);
      assert.equal(t.documents[0].content_type, 'application/pdf');
      t = (await tr(T, 'SendTransfer', { transfer_id: t.id, expected_version: t.version }, a)).transfer;
      assert.equal(t.state, 'TRANSFER_STATE_SENT');
      await delivered(t.id, a);
      assert.equal((await rec(R, 'GetRecord', { record_id: r.id }, b)).record.status, 'RECORD_STATUS_PENDING_TRANSFER');
      t = (await tr(T, 'ReceiveTransfer', { transfer_id: t.id, note: 'Đã nhận hồ sơ' }, b)).transfer;
      assert.equal(t.state, 'TRANSFER_STATE_COMPLETED');
      assert.equal(t.steps[1].outcome, 'RECEIVED');
      t = await delivered(t.id, b);
      const moved = (await rec(R, 'GetRecord', { record_id: r.id }, b)).record;
      assert.equal(moved.managing_unit_id, ctx.unitB);
      assert.equal(moved.status, 'RECORD_STATUS_ACTIVE');
      await assert.rejects(rec(R, 'GetRecord', { record_id: r.id }, a), (e) => e.code === 7);
      const doc = await tr(T, 'GetTransferDocument', { transfer_id: t.id, document_id: t.documents[0].id }, b);
      assert.ok(Buffer.from(doc.content).equals(PDF), 'the scan comes back as sent');
    }
  });

  await step('gRPC: refusals keep their status and name their field', async () => {
    const r = (await rec(R, 'CreateRecord', {
      record: { managing_unit_id: ctx.unitA, full_name: 'Lê Văn Sai', birth_date: '1990-01-01', gender: 'GENDER_MALE',
        employment: { category: 'CATEGORY_CIVIL_SERVANT' } },
    }, a)).record;
    await assert.rejects(tr(T, 'StartTransfer', {
      record_id: r.id, kind: 'TRANSFER_KIND_BETWEEN_UNITS', to_unit_id: ctx.unitA,
      decision: { number: '1/QĐ', effective_date: '2026-01-05' },
    }, a), (e) => e.code === 3 && /^to_unit_id:/.test(e.details));
    await assert.rejects(tr(T, 'StartTransfer', {
      record_id: r.id, kind: 'TRANSFER_KIND_BETWEEN_UNITS', to_unit_id: ctx.unitB,
      decision: { number: '1/QĐ', effective_date: '2026-01-05' }, decision_scan: { file_name: 'x.pdf', content: Buffer.from('PK\x03\x04') },
    }, a), (e) => e.code === 3 && /^decision_scan\.content:/.test(e.details));
  });

  await step('gRPC: inbox and outbox, deadlines, notices, policy, calendar and its arithmetic', async () => {
    const inbox = await tr(T, 'ListTransfers', { unit_id: ctx.unitB, box: 'BOX_INBOX', page_size: 50 }, b);
    assert.equal(inbox.transfers.length, ROUNDS);
    const outbox = await tr(T, 'ListTransfers', { unit_id: ctx.unitA, box: 'BOX_OUTBOX', page_size: 3 }, a);
    assert.equal(outbox.transfers.length, 3);
    assert.ok(outbox.next_page_token);
    const d = await tr(T, 'ListDeadlines', { unit_id: ctx.unitA, page_size: 500 }, a);
    assert.match(d.today, /^\d{4}-\d{2}-\d{2}$/);
    const n = await tr(T, 'ListNotices', { unit_id: ctx.unitB }, b);
    assert.ok(n.notices.filter((x) => x.kind === 'SENT').length >= ROUNDS);
    const p = (await tr(T, 'GetPolicy', {}, a)).policy;
    assert.equal(p.id, '004-bac-giang');
    assert.ok(p.rules.length >= 6);
    const presets = (await tr(T, 'ListPolicyPresets', {}, a)).presets;
    assert.equal(presets.length, 5);
    const cal = await tr(T, 'ListCalendar', { from_year: 2024, to_year: 2027 }, a);
    assert.equal(cal.years.length, 3);
    assert.deepEqual(cal.missing_years, [2027]);
    const add = await tr(T, 'AddWorkingDays', { date: '2025-01-20', days: 10 }, a);
    assert.equal(add.date, '2025-02-10');
    const count = await tr(T, 'CountWorkingDays', { from: '2025-04-24', to: '2025-05-05' }, a);
    assert.equal(count.days, 5);
  });

  console.log(`1..${results.length}`);
}

(process.argv[2] === 'setup' ? setup() : main()).then(
  () => process.exit(0),
  (e) => {
    console.error(String(e && e.stack ? e.stack : e));
    process.exit(1);
  });
