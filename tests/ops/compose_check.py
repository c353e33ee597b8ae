#!/usr/bin/env python3
"""docker/compose.yaml against its rules (docs/SECURITY.md, "Fail closed"), read with a real YAML
parser (merge keys and anchors resolved as compose resolves them), then the migration jobs it
declares run with the environment it gives them against the PostgreSQL the caller set up with
docker/initdb (host `postgres` becomes that server). Usage:
compose_check.py COMPOSE DOCKERFILE BUILD_DIR PG_HOST PG_PORT"""
import os
import re
import subprocess
import sys

import yaml

compose_path, dockerfile, build, pg_host, pg_port = sys.argv[1:6]
doc = yaml.safe_load(open(compose_path, encoding="utf-8"))
services = doc["services"]
failures = []


def fail(msg):
    failures.append(msg)
    print("not ok - " + msg)


def env_of(svc):
    e = services[svc].get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) for x in e)
    return {k: str(v) for k, v in e.items()}


def dsn_user(dsn):
    m = re.search(r"\buser=(\S+)", dsn)
    return m.group(1) if m else None


WHOLE = ["identity", "records", "transfers", "reporting", "gateway"]
for s in WHOLE:
    if s not in services:
        fail(f"service {s} is missing: the compose deployment is not the whole system")
for s in WHOLE[:-1]:
    if f"{s}-migrate" not in services:
        fail(f"no {s}-migrate job: {s}'s schema would not be migrated by its owner")
    elif services[f"{s}-migrate"].get("command") != [f"hoso-{s}", "migrate"]:
        fail(f"{s}-migrate does not run hoso-{s} migrate")

for name, svc in services.items():
    env = env_of(name)
    if name == "postgres":
        continue
    for k, v in env.items():
        if k in ("HOSO_PLAINTEXT", "HOSO_INSECURE_DEV") and v not in ("", "0"):
            fail(f"{name}: {k}={v}: the deployment must fail closed")
        if "DSN" in k and dsn_user(v) == "postgres":
            fail(f"{name}: {k} connects as the superuser postgres, which row-level security does not bind")
    migrating = name.endswith("-migrate")
    if "HOSO_PG_MIGRATE_DSN" in env and not migrating:
        fail(f"{name}: a running service holds the owner's DSN (HOSO_PG_MIGRATE_DSN)")
    if migrating and dsn_user(env.get("HOSO_PG_MIGRATE_DSN", "")) != "hoso_owner":
        fail(f"{name}: migrates as {dsn_user(env.get('HOSO_PG_MIGRATE_DSN', ''))}, not hoso_owner")
    if name in WHOLE[:-1]:
        if dsn_user(env.get("HOSO_PG_DSN", "")) != "hoso":
            fail(f"{name}: HOSO_PG_DSN is not the services' role hoso")
        for k in ("HOSO_TLS_CERT", "HOSO_TLS_KEY", "HOSO_TLS_CA"):
            if not env.get(k):
                fail(f"{name}: no {k}: the service would refuse to start (or run without TLS)")
        if svc.get("ports"):
            fail(f"{name}: publishes ports; only the gateway is published")

rep = env_of("reporting") if "reporting" in services else {}
if dsn_user(rep.get("HOSO_REPORTING_PG_DSN", "")) != "hoso_report":
    fail("reporting: HOSO_REPORTING_PG_DSN is not the read role hoso_report")

if "gateway" in services:
    gw, genv = services["gateway"], env_of("gateway")
    for k in genv:
        if re.search(r"PG|DSN|PASSWORD|SECRET|KEK|KEY_ENCRYPTION|AUDIT_CHECKPOINT_KEY|PACKAGE_KEY", k):
            fail(f"gateway: holds {k}; it gets no database, admin or service secret")
    allowed = {"ca.pem", "gateway.pem", "gateway.key"}
    for sec in gw.get("secrets") or []:
        src = sec["source"] if isinstance(sec, dict) else sec
        if src not in allowed:
            fail(f"gateway: is given secret {src}")
    if not gw.get("ports"):
        fail("gateway: not published")

docker = open(dockerfile, encoding="utf-8").read()
for s in WHOLE:
    if not re.search(rf"^COPY {s} {s}$", docker, re.M):
        fail(f"Dockerfile: does not copy {s}/ into the build")
if not re.search(r"^USER hoso$", docker, re.M):
    fail("Dockerfile: the image does not run as the unprivileged user hoso")



# The web application in the image: a stage that builds it as ./hoso up does (build_web's own
# command line, read from ./hoso, so the two cannot drift apart), its dist/ copied into the final
# image, and the gateway pointed at that copy; the host's node_modules and dist never sent.
def stages(text):
    out, cur = {}, None
    lines = re.sub(r"\\\n", " ", text).splitlines()
    for line in lines:
        m = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?\s*$", line, re.I)
        if m:
            cur = m.group(1) or f"#{len(out)}"
            out[cur] = []
        elif cur and line.strip() and not line.lstrip().startswith("#"):
            out[cur].append(line.strip())
    return out


root = os.path.dirname(os.path.dirname(os.path.abspath(compose_path)))
hoso = open(os.path.join(root, "hoso"), encoding="utf-8").read()
m = re.search(r"^build_web\(\) \{.*?\(cd \"\$ROOT/web\" && (.*?)\);", hoso, re.M | re.S)
if not m:
    fail("./hoso: build_web's command line (cd web && ...) not found: the image's web stage has nothing to match")
else:
    want = m.group(1).strip()
    st = stages(docker)
    web = [n for n, body in st.items() if any("npm ci" in x for x in body)]
    if not web:
        fail("Dockerfile: no stage runs npm ci: the image carries no web application")
    else:
        body = st[web[0]]
        runs = " && ".join(x[4:] for x in body if x.startswith("RUN "))
        if "scripts/gen.sh" not in runs:
            fail(f"Dockerfile: stage {web[0]} does not generate the clients (scripts/gen.sh) before building")
        if want not in runs:
            fail(f"Dockerfile: stage {web[0]} does not build as ./hoso up does ({want})")
        final = list(st.values())[-1]
        workdir = next((x.split()[1] for x in body if x.startswith("WORKDIR ")), "/")
        dist = os.path.join(workdir, "web/dist")
        copied = [x.split()[-1] for x in final if re.match(rf"COPY --from={re.escape(web[0])} {re.escape(dist)}/? ", x)]
        if not copied:
            fail(f"Dockerfile: the final image does not copy {dist} from stage {web[0]}")
        else:
            env_line = " ".join(x for x in final if x.startswith("ENV "))
            gw_dir = env_of("gateway").get("HOSO_GATEWAY_STATIC_DIR") if "gateway" in services else None
            m2 = re.search(r"HOSO_GATEWAY_STATIC_DIR=(\S+)", env_line)
            served = gw_dir or (m2.group(1) if m2 else None)
            if served != copied[0].rstrip("/"):
                fail(f"gateway: serves the web application from {served}, not {copied[0]} where the image has it")
ignore_path = os.path.join(root, ".dockerignore")
ignored = open(ignore_path, encoding="utf-8").read().split() if os.path.exists(ignore_path) else []
for d in ("web/node_modules/", "web/dist/"):
    if d not in ignored:
        fail(f".dockerignore: does not keep the host's {d} out of the image's build")

initdb = os.path.join(os.path.dirname(compose_path), "initdb")
mounted = any(v.endswith(":/docker-entrypoint-initdb.d:ro") and v.startswith("./initdb")
              for v in services["postgres"].get("volumes", []))
if not mounted:
    fail("postgres: does not run ./initdb at its first start")

if failures:
    sys.exit(1)
print("ok - compose.yaml: the whole system; services as hoso, reports as hoso_report, the gateway without secrets")
print("ok - Dockerfile: the web application built as ./hoso up builds it, served by the gateway from the image")


# The migration jobs as compose runs them, in the order their depends_on gives, with compose's
# ${VAR}, ${VAR:-default} and ${VAR:?message} filled from this environment (the .env's values).
def interpolate(v):
    def one(m):
        name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
        val = os.environ.get(name, "")
        if op == ":?" and not val:
            fail(f"{name} is required by compose.yaml ({arg}) and the test's .env does not set it")
        return val if val or op != ":-" else arg
    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}", one, v)


def local(v):
    return interpolate(v).replace("host=postgres", f"host={pg_host} port={pg_port}")


done, order = set(), []


def visit(name):
    if name in done or not name.endswith("-migrate"):
        return
    dep = services[name].get("depends_on") or {}
    for d in (dep if isinstance(dep, list) else dep.keys()):
        visit(d)
    done.add(name)
    order.append(name)


for name in services:
    visit(name)
for name in order:
    cmd = services[name]["command"]
    env = {"PATH": os.environ["PATH"], "HOSO_LOG_LEVEL": "info"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update({k: local(v) for k, v in env_of(name).items()})
    r = subprocess.run([os.path.join(build, cmd[0])] + cmd[1:], env=env, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
        fail(f"{name}: {' '.join(cmd)} failed ({r.returncode})")
        sys.exit(1)
    print(f"ok - {name}: {' '.join(cmd)} as hoso_owner")
print("ok - migration jobs: " + ", ".join(order))
