// Initiates the MongoDB replica set and creates the Projects Flow users.
// Idempotent: run it as often as you like; it changes only what is missing,
// and sets the application users' passwords and roles every time (so a
// rotated password takes effect on the next run).
//
// Run by setup.sh with mongosh, connected directly to one member (compose: the
// only member; Kubernetes: the first member, over localhost). Environment:
//   MONGO_RS_NAME           replica set name (default rs0)
//   MONGO_RS_MEMBERS        comma-separated host:port of every member, first one preferred as primary
//   MONGO_ROOT_USERNAME     the administrator; MONGO_ROOT_PASSWORD its password
//   MONGO_PROJECTOR_PASSWORD, MONGO_QUERY_PASSWORD   the application users' passwords
//   FLOW_DATABASE           the read-model database (default flow)
//
// Users (all in the admin database, so the URIs use authSource=admin):
//   projector  readWrite on <FLOW_DATABASE>: bulk writes, its position, indexes
//   query      read on <FLOW_DATABASE>: query-api only reads
/* global db, rs, sleep, print, connect, process */

const env = process.env;
function required(name) {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const rsName = env.MONGO_RS_NAME || "rs0";
const hosts = required("MONGO_RS_MEMBERS").split(",").map((h) => h.trim()).filter(Boolean);
const rootUser = required("MONGO_ROOT_USERNAME");
const rootPassword = required("MONGO_ROOT_PASSWORD");
const database = env.FLOW_DATABASE || "flow";
const appUsers = [
  { user: "projector", pwd: required("MONGO_PROJECTOR_PASSWORD"), roles: [{ role: "readWrite", db: database }] },
  { user: "query", pwd: required("MONGO_QUERY_PASSWORD"), roles: [{ role: "read", db: database }] },
];

function login(target) {
  try {
    target.getSiblingDB("admin").auth(rootUser, rootPassword);
    return true;
  } catch (err) {
    // No such user yet (first start in Kubernetes): the localhost exception applies.
    if (err.code === 18 || err.codeName === "AuthenticationFailed") return false;
    throw err;
  }
}

let loggedIn = login(db);

// 1. The replica set.
if (!db.hello().setName) {
  const members = hosts.map((host, i) => ({ _id: i, host, priority: i === 0 ? 2 : 1 }));
  print(`initiating replica set ${rsName}: ${hosts.join(", ")}`);
  rs.initiate({ _id: rsName, members });
}

// 2. A primary (an election takes a few seconds after initiation).
let hello = db.hello();
for (let i = 0; i < 60 && !hello.primary; i++) {
  sleep(1000);
  hello = db.hello();
}
if (!hello.primary) throw new Error(`replica set ${rsName} has no primary yet`);

// 3. The administrator, through the localhost exception on a fresh set.
if (!loggedIn) {
  if (!hello.isWritablePrimary) {
    throw new Error("cannot log in as the root user, and this member is not the primary to create it");
  }
  db.getSiblingDB("admin").createUser(
    { user: rootUser, pwd: rootPassword, roles: ["root"] },
    { w: "majority" },
  );
  print(`created user ${rootUser}`);
  loggedIn = login(db);
}

// 4. The application users, on the primary.
let admin = db.getSiblingDB("admin");
if (!hello.isWritablePrimary) {
  const primary = connect(`mongodb://${hello.primary}/admin?directConnection=true`);
  if (!login(primary)) throw new Error(`cannot log in to the primary ${hello.primary} as ${rootUser}`);
  admin = primary.getSiblingDB("admin");
}
for (const { user, pwd, roles } of appUsers) {
  if (admin.getUser(user)) {
    admin.updateUser(user, { pwd, roles }, { w: "majority" });
  } else {
    admin.createUser({ user, pwd, roles }, { w: "majority" });
    print(`created user ${user} with ${roles.map((r) => `${r.role}@${r.db}`).join(", ")}`);
  }
}
