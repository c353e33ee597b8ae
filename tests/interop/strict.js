// The strict decoding every interop test shares: a @grpc/grpc-js client whose deserializer walks
// each reply's wire bytes (every tag a field of the message, its wire type the field's, every
// string valid UTF-8, nothing left over) before protobufjs decodes it; the protos from proto/.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protobuf = require('protobufjs');
const fs = require('node:fs');

// proto/, then the system's google/protobuf/*.proto (Debian's libprotobuf-dev, which the build needs).
const protoDirs = [path.resolve(__dirname, '..', '..', 'proto'), '/usr/include'];
const root = new protobuf.Root();
root.resolvePath = (_origin, target) =>
  protoDirs.map((d) => path.join(d, target)).find((f) => fs.existsSync(f)) || target;
root.loadSync(['identity.proto', 'records.proto', 'transfers.proto', 'reporting.proto'], { keepCase: true });
root.resolveAll();

const creds = grpc.credentials.createInsecure();
const env = (k) => {
  const v = process.env[k];
  if (!v) {
    console.error(`set ${k} (replies.sh does)`);
    process.exit(2);
  }
  return v;
};

// ---- the strict wire walk ---------------------------------------------------------------------

const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 };
function wireTypeOf(field) {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return WIRE.bytes;
  if (t instanceof protobuf.Enum) return WIRE.varint;
  switch (field.type) {
    case 'string': case 'bytes': return WIRE.bytes;
    case 'double': case 'fixed64': case 'sfixed64': return WIRE.fixed64;
    case 'float': case 'fixed32': case 'sfixed32': return WIRE.fixed32;
    default: return WIRE.varint;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Throws naming the place when buf is not exactly a well-formed `type`.
function strictWalk(type, buf, where) {
  const r = protobuf.Reader.create(buf);
  while (r.pos < r.len) {
    const at = r.pos;
    const tag = r.uint32();
    const id = tag >>> 3;
    const wt = tag & 7;
    const f = type.fieldsById[id];
    if (!f) throw new Error(`${where}: unknown field ${id} (wire type ${wt}) at byte ${at} of ${buf.length}`);
    const want = wireTypeOf(f);
    const packed = f.repeated && want !== WIRE.bytes && wt === WIRE.bytes;
    if (wt !== want && !packed) throw new Error(`${where}.${f.name}: wire type ${wt}, expected ${want}`);
    if (wt === WIRE.bytes) {
      const sub = r.bytes();
      if (f.resolvedType instanceof protobuf.Type) strictWalk(f.resolvedType, sub, `${where}.${f.name}`);
      else if (f.type === 'string') utf8.decode(sub);
    } else {
      r.skipType(wt);
    }
  }
  if (r.pos !== r.len) throw new Error(`${where}: ${r.len - r.pos} trailing bytes`);
}

function strictClient(addr) {
  const client = new grpc.Client(addr, creds);
  return (service, method, req, token) => {
    const svc = root.lookupService(service);
    const m = svc.methods[method];
    const reqType = m.resolvedRequestType;
    const respType = m.resolvedResponseType;
    const md = new grpc.Metadata();
    if (token) md.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        `/${svc.fullName.slice(1)}/${method}`,
        (o) => Buffer.from(reqType.encode(reqType.fromObject(o)).finish()),
        (buf) => {
          strictWalk(respType, buf, `${method} reply`);
          return respType.toObject(respType.decode(buf), { longs: String, enums: String, defaults: true });
        },
        req, md, { deadline: new Date(Date.now() + 30000) },
        (err, resp) => (err ? reject(err) : resolve(resp)));
    });
  };
}

// A server-streaming call: every message walked strictly, then decoded; resolves with them all
// in order once the server ends the stream with OK.
function strictStreamClient(addr) {
  const client = new grpc.Client(addr, creds);
  return (service, method, req, token) => {
    const svc = root.lookupService(service);
    const m = svc.methods[method];
    const reqType = m.resolvedRequestType;
    const respType = m.resolvedResponseType;
    const md = new grpc.Metadata();
    if (token) md.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      const got = [];
      const call = client.makeServerStreamRequest(
        `/${svc.fullName.slice(1)}/${method}`,
        (o) => Buffer.from(reqType.encode(reqType.fromObject(o)).finish()),
        (buf) => {
          strictWalk(respType, buf, `${method} message ${got.length + 1}`);
          return respType.toObject(respType.decode(buf), { longs: String, enums: String, defaults: true });
        },
        req, md, { deadline: new Date(Date.now() + 60000) });
      call.on('data', (msg) => got.push(msg));
      call.on('error', reject);
      call.on('status', (st) => { if (st.code === grpc.status.OK) resolve(got); });
    });
  };
}

// One numbered TAP line per step; the first failure ends the run with its stack.
const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`ok ${results.length} - ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`not ok ${results.length} - ${name}`);
    console.log(`  # ${String(e && e.stack ? e.stack : e).split('\n').join('\n  # ')}`);
    throw e;
  }
}

module.exports = { root, env, strictWalk, strictClient, strictStreamClient, step, results };
