// Exercises setup.js against a fake mongosh (run by deploy/validate when node is
// there): a fresh Kubernetes replica set through the localhost exception, a
// re-run with a rotated password, a re-run after a failover, a fresh compose
// set whose root user the image created, and the failures that must stop it.
//   node check-setup.js setup.js
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
function run(scenario) {
  const state = scenario.state;
  const log = [];
  const err = (code, codeName, msg) => Object.assign(new Error(msg), { code, codeName });
  function mkdb(conn) {
    const d = {
      getSiblingDB: () => d,
      auth(u, p) {
        if (state.users[u] && state.users[u].pwd === p) { conn.authed = true; return { ok: 1 }; }
        throw err(18, "AuthenticationFailed", "Authentication failed.");
      },
      hello() {
        return state.initiated
          ? { setName: "rs0", primary: state.primaryHost, isWritablePrimary: conn.host === state.primaryHost }
          : { isWritablePrimary: false };
      },
      createUser(spec) {
        const noUsers = Object.keys(state.users).length === 0;
        if (!(conn.authed || (noUsers && conn.localhost))) throw err(13, "Unauthorized", "requires auth");
        if (conn.host !== state.primaryHost) throw err(10107, "NotWritablePrimary", "not primary");
        if (state.users[spec.user]) throw err(51003, "Location51003", "User already exists");
        state.users[spec.user] = { pwd: spec.pwd, roles: spec.roles };
        log.push(`create ${spec.user}`);
      },
      updateUser(u, upd) {
        if (!conn.authed) throw err(13, "Unauthorized", "requires auth");
        if (conn.host !== state.primaryHost) throw err(10107, "NotWritablePrimary", "not primary");
        state.users[u] = { ...state.users[u], ...upd };
        log.push(`update ${u}`);
      },
      getUser(u) { if (!conn.authed) throw err(13, "Unauthorized", "requires auth"); return state.users[u] || null; },
    };
    return d;
  }
  const conn = { host: scenario.host, localhost: scenario.localhost, authed: false };
  const rs = {
    initiate(cfg) {
      if (!(conn.authed || (Object.keys(state.users).length === 0 && conn.localhost))) throw err(13, "Unauthorized", "initiate requires auth");
      state.initiated = true; state.primaryHost = cfg.members[0].host; log.push(`initiate ${cfg.members.map(m => m.host + "/" + m.priority).join(",")}`);
      return { ok: 1 };
    },
  };
  const globals = {
    db: mkdb(conn), rs, sleep: () => {}, print: (m) => log.push(`print: ${m}`),
    connect: (url) => { const host = url.replace("mongodb://", "").split("/")[0]; return mkdb({ host, localhost: false, authed: false }); },
    process: { env: scenario.env },
  };
  try {
    new Function(...Object.keys(globals), src)(...Object.values(globals));
    return { ok: true, log, users: Object.fromEntries(Object.entries(state.users).map(([k, v]) => [k, JSON.stringify(v.roles) + " pwd=" + v.pwd])) };
  } catch (e) { return { ok: false, error: e.message, log }; }
}
const assert = require("assert");
const env = { MONGO_RS_MEMBERS: "mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017", MONGO_ROOT_USERNAME: "root", MONGO_ROOT_PASSWORD: "rootpw", MONGO_PROJECTOR_PASSWORD: "ppw", MONGO_QUERY_PASSWORD: "qpw" };
const roles = (db) => ({ projector: [{ role: "readWrite", db }], query: [{ role: "read", db }] });
function expectUsers(result, want, name) {
  assert.ok(result.ok, `${name}: ${result.error}`);
  assert.deepStrictEqual(result.users, want, name);
}
const k8s = { users: {}, initiated: false };
let r = run({ state: k8s, host: "mongo-0.mongo:27017", localhost: true, env });
expectUsers(r, {
  root: '["root"] pwd=rootpw',
  projector: JSON.stringify(roles("flow").projector) + " pwd=ppw",
  query: JSON.stringify(roles("flow").query) + " pwd=qpw",
}, "fresh replica set");
assert.ok(r.log.includes("initiate mongo-0.mongo:27017/2,mongo-1.mongo:27017/1,mongo-2.mongo:27017/1"), "initiates all members");
r = run({ state: k8s, host: "mongo-0.mongo:27017", localhost: true, env: { ...env, MONGO_QUERY_PASSWORD: "rotated" } });
assert.ok(r.ok && !r.log.some((l) => l.startsWith("initiate")), `re-run: ${r.error}`);
assert.strictEqual(r.users.query, JSON.stringify(roles("flow").query) + " pwd=rotated", "a rotated password applies");
k8s.primaryHost = "mongo-1.mongo:27017";
r = run({ state: k8s, host: "mongo-0.mongo:27017", localhost: true, env: { ...env, FLOW_DATABASE: "other" } });
assert.ok(r.ok, `after a failover: ${r.error}`);
assert.strictEqual(r.users.projector, JSON.stringify(roles("other").projector) + " pwd=ppw", "users are updated on the primary");
const compose = { users: { root: { pwd: "rootpw", roles: ["root"] } }, initiated: false };
const cenv = { ...env, MONGO_RS_MEMBERS: "mongo:27017" };
r = run({ state: compose, host: "mongo:27017", localhost: false, env: cenv });
assert.ok(r.ok && r.log.includes("initiate mongo:27017/2") && r.users.query && r.users.projector, `compose: ${r.error}`);
r = run({ state: { users: { root: { pwd: "other" } }, initiated: false }, host: "mongo:27017", localhost: false, env: cenv });
assert.ok(!r.ok, "a wrong root password must fail");
r = run({ state: { users: {}, initiated: false }, host: "h:1", localhost: true, env: { MONGO_RS_MEMBERS: "h:1" } });
assert.ok(!r.ok && /MONGO_ROOT_USERNAME/.test(r.error), "a missing variable must fail");
