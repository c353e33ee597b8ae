// Interop: a standard Connect client from npm (@connectrpc/connect-node over HTTP/1.1, code
// generated from proto/identity.proto by @bufbuild/protoc-gen-es) against the real gateway in
// front of the real identity service, in both encodings. Run by run.sh.
import assert from 'node:assert/strict';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Identity, UnitType } from './gen/identity_pb.js';

const baseUrl = process.env.HOSO_GATEWAY_URL;
const adminPassword = process.env.HOSO_ADMIN_PASSWORD;
if (!baseUrl || !adminPassword) {
  console.error('set HOSO_GATEWAY_URL and HOSO_ADMIN_PASSWORD (run.sh does)');
  process.exit(2);
}

let passed = 0;
async function check(name, fn) {
  await fn();
  passed++;
  console.log(`ok - ${name}`);
}

// A Connect error with the given code (the client maps the gateway's error JSON to it).
async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof ConnectError, `not a ConnectError: ${e}`);
    assert.equal(e.code, code, `expected ${Code[code]}, got ${Code[e.code]}: ${e.message}`);
    return true;
  });
}

for (const binary of [false, true]) {
  const enc = binary ? 'proto' : 'json';
  const transport = createConnectTransport({ httpVersion: '1.1', baseUrl, useBinaryFormat: binary });
  const client = createClient(Identity, transport);
  let token;
  let root;

  await check(`${enc}: Login returns a token and the account`, async () => {
    const r = await client.login({ username: 'admin', password: adminPassword });
    assert.ok(r.accessToken.length > 20);
    assert.equal(r.tokenType, 'Bearer');
    assert.ok(r.expiresIn > 0);
    assert.equal(r.account?.username, 'admin');
    token = r.accessToken;
  });
  const auth = () => ({ headers: { authorization: `Bearer ${token}` } });

  await check(`${enc}: WhoAmI with the token, request id echoed`, async () => {
    let rid = '';
    const me = await client.whoAmI({}, {
      ...auth(),
      headers: { authorization: `Bearer ${token}`, 'x-request-id': `connect-${enc}-1` },
      onHeader: (h) => { rid = h.get('x-request-id') ?? ''; },
      timeoutMs: 30000, // sent as Connect-Timeout-Ms; roomy, as the machine may be loaded
    });
    assert.equal(me.account?.username, 'admin');
    assert.equal(rid, `connect-${enc}-1`);
    root = me.account.unitId;
    assert.ok(root);
  });

  await check(`${enc}: CreateUnit then ListChildUnits shows it`, async () => {
    const made = await client.createUnit({
      parentId: root,
      code: `CX.${enc.toUpperCase()}.${process.pid}`,
      name: 'Phòng Kết nối thử nghiệm',
      type: UnitType.AGENCY,
    }, auth());
    assert.equal(made.unit?.name, 'Phòng Kết nối thử nghiệm');
    assert.equal(made.unit?.type, UnitType.AGENCY);
    const list = await client.listChildUnits({ unitId: root, pageSize: 50 }, auth());
    const found = list.units.find((u) => u.id === made.unit.id);
    assert.ok(found, 'the new unit is among the children');
    assert.equal(found.code, made.unit.code);
  });

  await check(`${enc}: a wrong password is Code.Unauthenticated`, async () => {
    await rejectsWith(client.login({ username: `connect-nobody-${enc}`, password: 'wrong' }), Code.Unauthenticated);
  });

  await check(`${enc}: no token is Code.Unauthenticated, a bad argument Code.InvalidArgument`, async () => {
    await rejectsWith(client.whoAmI({}), Code.Unauthenticated);
    await rejectsWith(client.getUnit({ unitId: 'not-a-number' }, auth()), Code.InvalidArgument);
  });
}

console.log(`${passed} passed, 0 failed`);
