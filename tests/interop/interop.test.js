// Interop: a client from another ecosystem (Node.js, @grpc/grpc-js, proto loaded at run time by
// @grpc/proto-loader) logs in to the real identity service and lists units. Run by run.sh.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const addr = process.env.HOSO_IDENTITY_ADDR;
const adminPassword = process.env.HOSO_ADMIN_PASSWORD;
if (!addr || !adminPassword) {
  console.error('set HOSO_IDENTITY_ADDR and HOSO_ADMIN_PASSWORD (run.sh does)');
  process.exit(2);
}

const protoDir = path.resolve(__dirname, '..', '..', 'proto');
const def = protoLoader.loadSync(['identity.proto', 'grpc/health/v1/health.proto'], {
  includeDirs: [protoDir],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
});
const pkg = grpc.loadPackageDefinition(def);
const creds = grpc.credentials.createInsecure();
const identity = new pkg.hoso.identity.v1.Identity(addr, creds);
const health = new pkg.grpc.health.v1.Health(addr, creds);

// One unary call, resolved once both the reply (or error) and the final status are in, with the
// response headers: the server's x-request-id may come as headers or, for an error without a
// body, in the trailers.
function call(client, method, req, md = new grpc.Metadata()) {
  return new Promise((resolve) => {
    let headers = null;
    let done = null;
    let status = null;
    const finish = () => {
      if (done && status) resolve({ ...done, headers, trailers: status.metadata });
    };
    const deadline = new Date(Date.now() + 30000);
    const c = client[method](req, md, { deadline }, (err, resp) => {
      done = { err, resp };
      finish();
    });
    c.on('metadata', (m) => { headers = m; });
    c.on('status', (s) => { status = s; finish(); });
  });
}

function requestId(r) {
  const fromHeaders = r.headers ? r.headers.get('x-request-id') : [];
  const fromTrailers = r.trailers ? r.trailers.get('x-request-id') : [];
  return String([...fromHeaders, ...fromTrailers][0] || '');
}

function bearer(token) {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok ${results.length} - ${name}`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`not ok ${results.length} - ${name}`);
    console.log(`  # ${String(e && e.stack ? e.stack : e).split('\n').join('\n  # ')}`);
    throw e;
  }
}

async function main() {
  let token = '';
  let rootId = '';
  let created = null;

  await step('grpc.health.v1.Health/Check answers SERVING', async () => {
    // run.sh starts the service just before: give it a moment to listen.
    const until = Date.now() + 30000;
    for (;;) {
      const r = await call(health, 'Check', { service: '' });
      if (!r.err && r.resp.status === 'SERVING') return;
      if (Date.now() > until) {
        assert.fail(`no SERVING answer: ${r.err ? r.err.message : r.resp.status}`);
      }
      await new Promise((ok) => setTimeout(ok, 200));
    }
  });

  await step('Login as admin returns a bearer access token and an x-request-id', async () => {
    const r = await call(identity, 'Login', { username: 'admin', password: adminPassword });
    assert.equal(r.err, null, r.err && r.err.message);
    assert.match(r.resp.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a compact JWT');
    assert.equal(r.resp.token_type, 'Bearer');
    assert.ok(r.resp.expires_in > 0 && r.resp.expires_in <= 900, `expires_in ${r.resp.expires_in}`);
    assert.equal(r.resp.must_change_password, false, 'admin with HOSO_ADMIN_PASSWORD is exempt');
    assert.notEqual(requestId(r), '', 'x-request-id response metadata');
    token = r.resp.access_token;
  });

  await step('WhoAmI names admin, SYSTEM_ADMIN and the root unit', async () => {
    const r = await call(identity, 'WhoAmI', {}, bearer(token));
    assert.equal(r.err, null, r.err && r.err.message);
    assert.equal(r.resp.account.username, 'admin');
    assert.ok(r.resp.roles.includes('SYSTEM_ADMIN'), `roles ${r.resp.roles}`);
    assert.match(r.resp.account.unit_id, /^[1-9][0-9]*$/);
    rootId = r.resp.account.unit_id;
  });

  await step('CreateUnit makes a child of the root, Vietnamese name kept exactly', async () => {
    const name = 'Sở Tư pháp tỉnh Bắc Giang';
    const r = await call(identity, 'CreateUnit', {
      parent_id: rootId,
      code: 'NODE.STP',
      name,
      type: 'UNIT_TYPE_DEPARTMENT',
      staffing_quota: 35,
      request_id: 'node-interop-create-1',
    }, bearer(token));
    assert.equal(r.err, null, r.err && r.err.message);
    created = r.resp.unit;
    assert.equal(created.name, name);
    assert.equal(created.parent_id, rootId);
    assert.equal(created.level, 2);
    assert.equal(created.type, 'UNIT_TYPE_DEPARTMENT');
    assert.equal(created.path.split('.').pop(), created.id, `path ${created.path} ends with the id`);
  });

  await step('ListChildUnits of the root lists the new unit', async () => {
    const r = await call(identity, 'ListChildUnits', { unit_id: rootId, page_size: 500 }, bearer(token));
    assert.equal(r.err, null, r.err && r.err.message);
    assert.ok(r.resp.units.length >= 1, 'a non-empty list');
    const mine = r.resp.units.find((u) => u.id === created.id);
    assert.ok(mine, `unit ${created.id} in ${JSON.stringify(r.resp.units.map((u) => u.id))}`);
    assert.equal(mine.code, 'NODE.STP');
    assert.equal(mine.name, created.name);
    assert.notEqual(requestId(r), '', 'x-request-id response metadata');
  });

  await step('a wrong password is UNAUTHENTICATED (16), and the client\'s x-request-id comes back', async () => {
    const md = new grpc.Metadata();
    md.set('x-request-id', 'node-interop-wrong-password');
    const r = await call(identity, 'Login', { username: 'admin', password: 'not the password' }, md);
    assert.ok(r.err, 'an error');
    assert.equal(r.err.code, grpc.status.UNAUTHENTICATED);
    assert.equal(r.err.code, 16);
    assert.equal(requestId(r), 'node-interop-wrong-password');
  });

  await step('a call without a token is UNAUTHENTICATED', async () => {
    const r = await call(identity, 'ListChildUnits', { unit_id: rootId });
    assert.ok(r.err, 'an error');
    assert.equal(r.err.code, grpc.status.UNAUTHENTICATED);
  });
}

main()
  .then(() => {
    console.log(`1..${results.length}`);
    console.log(`# interop/node_grpc: ${results.length} passed (@grpc/grpc-js ${require('@grpc/grpc-js/package.json').version}, node ${process.version})`);
    identity.close();
    health.close();
  })
  .catch(() => {
    console.log(`1..${results.length}`);
    console.log('# interop/node_grpc: FAILED');
    identity.close();
    health.close();
    process.exitCode = 1;
  });
