// Every reply of the record paths decoded by foreign decoders, many times over: a Node.js
// @grpc/grpc-js client whose deserializer walks each reply's wire bytes strictly (every tag a
// field of the message, its wire type the field's, every string valid UTF-8, nothing left over)
// before protobufjs decodes it, and the gateway's JSON faces (REST and Connect) read by fetch.
// A reply field pointing into a returned stack frame sends leftover memory or drops the field;
// repeated a few dozen times, such a bug cannot pass by chance. Run by replies.sh in two phases:
// `setup` (identity only: units, an approver, the transfers service client) and the test itself.
'use strict';

const assert = require('node:assert/strict');

const { env, strictClient, step, results } = require('./strict');

// ---- phase 1: identity only -------------------------------------------------------------------

async function setup() {
  const id = strictClient(env('HOSO_IDENTITY_ADDR'));
  const I = 'hoso.identity.v1.Identity';
  const login = await id(I, 'Login', { username: 'admin', password: env('HOSO_ADMIN_PASSWORD') });
  const admin = login.access_token;
  const rootId = login.account.unit_id;
  const unit = async (code, name) => (await id(I, 'CreateUnit', {
    parent_id: rootId, code, name, type: 'UNIT_TYPE_DEPARTMENT', request_id: `replies-${code}`,
  }, admin)).unit;
  const a = await unit('RP-A', 'Sở Nội vụ');
  const b = await unit('RP-B', 'Sở Tài chính');
  const temp = 'Tam-thoi-2026!aA';
  await id(I, 'CreateAccount', {
    username: 'replies.approver', full_name: 'Trần Thị Duyệt', unit_id: rootId, roles: ['UNIT_ADMIN'],
    initial_password: temp,
  }, admin);
  const first = await id(I, 'Login', { username: 'replies.approver', password: temp });
  const approverPw = 'Duyet-ho-so-2026!';
  await id(I, 'ChangePassword', { old_password: temp, new_password: approverPw }, first.access_token);
  const sc = await id(I, 'CreateServiceClient', {
    name: 'transfers (replies test)', unit_ids: [rootId], approval_reference: 'CV 12/SNV-replies',
  }, admin);
  process.stdout.write(JSON.stringify({
    unitA: a.id, pathA: a.path, unitB: b.id, pathB: b.path, approverPw,
    clientId: sc.client.client_id, clientSecret: sc.client_secret,
  }));
}

// ---- phase 2: records and the gateway ------------------------------------------------------------


const ROUNDS = 30;
const NAMES = ['Nguyễn Văn An', 'Đặng Thị Hồng Nhung', 'Lê Quốc Việt', 'Phạm Thị Thu Hường', 'Hoàng Đức Thắng'];

function newRecord(unitId, i) {
  return {
    managing_unit_id: unitId,
    full_name: NAMES[i % NAMES.length],
    birth_date: `198${i % 10}-0${1 + (i % 9)}-1${i % 10}`,
    gender: i % 2 ? 'GENDER_MALE' : 'GENDER_FEMALE',
    personal: { birth_place: 'Xã Tân Mỹ, thành phố Bắc Giang', phone: `09120000${String(i).padStart(2, '0')}` },
    employment: { category: 'CATEGORY_CIVIL_SERVANT', department: 'Phòng Tổ chức – Hành chính' },
  };
}

// What every Record in a reply must hold, whatever the RPC.
function checkRecord(rec, want, what) {
  assert.ok(rec, `${what}: no record in the reply`);
  assert.match(rec.id, /^[1-9][0-9]*$/, `${what}: id`);
  assert.equal(rec.managing_unit_id, want.unit, `${what}: managing_unit_id`);
  assert.equal(rec.managing_unit_path, want.path, `${what}: managing_unit_path`);
  assert.equal(rec.full_name, want.name, `${what}: full_name`);
  assert.ok(Number(rec.version) >= 1, `${what}: version`);
}

async function main() {
  const ctx = JSON.parse(env('HOSO_REPLIES_SETUP'));
  const id = strictClient(env('HOSO_IDENTITY_ADDR'));
  const rec = strictClient(env('HOSO_RECORDS_ADDR'));
  const gw = env('HOSO_GATEWAY_URL');
  const I = 'hoso.identity.v1.Identity';
  const R = 'hoso.records.v1.Records';
  let admin, approver, service;

  await step('log in: the updater (admin), the approver, the transfers service client', async () => {
    admin = (await id(I, 'Login', { username: 'admin', password: env('HOSO_ADMIN_PASSWORD') })).access_token;
    approver = (await id(I, 'Login', { username: 'replies.approver', password: ctx.approverPw })).access_token;
    service = (await id(I, 'ServiceLogin', { client_id: ctx.clientId, client_secret: ctx.clientSecret })).access_token;
  });

  const A = (name) => ({ unit: ctx.unitA, path: ctx.pathA, name });
  const B = (name) => ({ unit: ctx.unitB, path: ctx.pathB, name });

  await step(`gRPC, ${ROUNDS} rounds: create, replay, get, update, submit, approve, move, status, versions, export`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const name = NAMES[i % NAMES.length];
      const rid = `replies-create-${i}`;
      let r = (await rec(R, 'CreateRecord', { record: newRecord(ctx.unitA, i), request_id: rid }, admin)).record;
      checkRecord(r, A(name), `CreateRecord #${i}`);
      assert.equal(r.workflow_state, 'WORKFLOW_STATE_DRAFT');
      const again = (await rec(R, 'CreateRecord', { record: newRecord(ctx.unitA, i), request_id: rid }, admin)).record;
      checkRecord(again, A(name), `CreateRecord replay #${i}`);
      assert.equal(again.id, r.id, 'a repeated request_id returns the first record');

      checkRecord((await rec(R, 'GetRecord', { record_id: r.id }, admin)).record, A(name), `GetRecord #${i}`);

      const changed = { ...r, personal: { ...r.personal, current_address: `Số ${i} đường Hùng Vương, Bắc Giang` } };
      r = (await rec(R, 'UpdateRecord', {
        record: changed, expected_version: r.version, reason: { text: 'Cập nhật nơi ở hiện nay' },
        request_id: `replies-update-${i}`,
      }, admin)).record;
      checkRecord(r, A(name), `UpdateRecord #${i}`);
      assert.equal(r.personal.current_address, `Số ${i} đường Hùng Vương, Bắc Giang`);

      r = (await rec(R, 'SubmitRecord', { record_id: r.id, expected_version: r.version }, admin)).record;
      checkRecord(r, A(name), `SubmitRecord #${i}`);
      assert.equal(r.workflow_state, 'WORKFLOW_STATE_SUBMITTED');
      r = (await rec(R, 'ApproveRecord', { record_id: r.id, expected_version: r.version, note: 'Đã kiểm tra' }, approver)).record;
      checkRecord(r, A(name), `ApproveRecord #${i}`);
      assert.equal(r.workflow_state, 'WORKFLOW_STATE_APPROVED');

      // The transfer path: records' SetManagingUnit as the transfers service calls it.
      const decision = { number: `${100 + i}/QĐ-UBND`, date: '2026-11-02', effective_date: '2026-11-15', issuer: 'UBND tỉnh Bắc Giang' };
      for (const status of ['RECORD_STATUS_PENDING_TRANSFER', 'RECORD_STATUS_ACTIVE']) {
        const unit = status === 'RECORD_STATUS_ACTIVE' ? ctx.unitB : ctx.unitA;
        r = (await rec(R, 'SetManagingUnit', {
          record_id: r.id, new_unit_id: unit, transfer_id: `replies-transfer-${i}`, decision, status,
        }, service)).record;
        checkRecord(r, unit === ctx.unitB ? B(name) : A(name), `SetManagingUnit ${status} #${i}`);
        assert.equal(r.status, status);
      }
      if (i % 2) {
        r = (await rec(R, 'ChangeRecordStatus', {
          record_id: r.id, status: 'RECORD_STATUS_RETIRED', expected_version: r.version,
          decision: { number: `${200 + i}/QĐ-SNV`, date: '2026-11-20', effective_date: '2026-11-30' },
          request_id: `replies-status-${i}`,
        }, admin)).record;
        checkRecord(r, B(name), `ChangeRecordStatus #${i}`);
        assert.equal(r.status, 'RECORD_STATUS_RETIRED');
      }
      const v = await rec(R, 'ListRecordVersions', { record_id: r.id }, admin);
      assert.ok(v.versions.length >= 6, `ListRecordVersions #${i}: ${v.versions.length} versions`);
      const x = await rec(R, 'ExportRecord', { record_id: r.id, format: 'EXPORT_FORMAT_JSON' }, admin);
      assert.equal(JSON.parse(Buffer.from(x.content, 'base64').toString('utf8')).managingUnitPath, ctx.pathB);
    }
  });

  await step('gRPC: a search reply lists every record made, decoded strictly', async () => {
    const s = await rec(R, 'SearchRecords', { unit_id: ctx.unitB, page_size: 500 }, admin);
    assert.equal(s.records.length, ROUNDS);
  });

  // The gateway decodes the services' replies with protobuf-c and answers JSON: a corrupt reply
  // becomes HTTP 500 "malformed protobuf message" there.
  async function http(method, url, token, body, headers = {}) {
    const res = await fetch(gw + url, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    assert.equal(res.status, 200, `${method} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return json;
  }
  const checkJson = (r, want, what) => {
    assert.ok(r, `${what}: no record`);
    assert.equal(r.managingUnitId, want.unit, `${what}: managingUnitId`);
    assert.equal(r.managingUnitPath, want.path, `${what}: managingUnitPath`);
    assert.equal(r.fullName, want.name, `${what}: fullName`);
  };

  await step(`gateway REST, ${ROUNDS} rounds: POST /v1/records answers 200 with managingUnitPath; get, update, submit, approve, status`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const name = NAMES[i % NAMES.length];
      const body = {
        record: {
          managingUnitId: ctx.unitA, fullName: name, birthDate: '1990-02-28', gender: 'GENDER_MALE',
          employment: { category: 'CATEGORY_PUBLIC_EMPLOYEE' },
        },
        requestId: `replies-rest-${i}`,
      };
      let r = (await http('POST', '/v1/records', admin, body)).record;
      checkJson(r, A(name), `POST /v1/records #${i}`);
      checkJson((await http('GET', `/v1/records/${r.id}`, admin)).record, A(name), `GET #${i}`);
      r.personal = { phone: '0204385' + String(1000 + i) };
      r = (await http('PUT', `/v1/records/${r.id}`, admin, { record: r, expectedVersion: r.version, reason: { text: 'Bổ sung số điện thoại' } })).record;
      checkJson(r, A(name), `PUT #${i}`);
      r = (await http('POST', `/v1/records/${r.id}:submit`, admin, { expectedVersion: r.version })).record;
      checkJson(r, A(name), `submit #${i}`);
      r = (await http('POST', `/v1/records/${r.id}:approve`, approver, { expectedVersion: r.version })).record;
      checkJson(r, A(name), `approve #${i}`);
      assert.equal(r.workflowState, 'WORKFLOW_STATE_APPROVED');
      r = (await http('POST', `/v1/records/${r.id}:changeStatus`, admin, {
        status: 'RECORD_STATUS_RESIGNED', expectedVersion: r.version,
        decision: { number: `${300 + i}/QĐ-SNV`, date: '2026-11-21', effectiveDate: '2026-12-01' },
      })).record;
      checkJson(r, A(name), `changeStatus #${i}`);
      assert.equal(r.status, 'RECORD_STATUS_RESIGNED');
    }
  });

  await step(`gateway Connect JSON, ${ROUNDS} rounds: CreateRecord and GetRecord`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const name = NAMES[i % NAMES.length];
      const c = await http('POST', '/hoso.records.v1.Records/CreateRecord', admin, {
        record: {
          managingUnitId: ctx.unitA, fullName: name, birthDate: '1979-12-31', gender: 'GENDER_FEMALE',
          employment: { category: 'CATEGORY_CONTRACT' },
        },
        requestId: `replies-connect-${i}`,
      }, { 'connect-protocol-version': '1' });
      checkJson(c.record, A(name), `Connect CreateRecord #${i}`);
      const g = await http('POST', '/hoso.records.v1.Records/GetRecord', admin, { recordId: c.record.id },
        { 'connect-protocol-version': '1' });
      checkJson(g.record, A(name), `Connect GetRecord #${i}`);
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
