// dist/braid's loader (appended by src/build/build.mjs after it defines APP, HEAVY_BR, HASH).
// The app and the heavy libraries (Kubernetes client, YAML, ajv, prom-client) are embedded as
// strings and compiled only when needed, each with a V8 code cache: Node 20 has no
// module.enableCompileCache, and parsing 4 MB on every CNI call would cost ~90 ms.
const vm = require('node:vm');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

function cacheDir() {
  if (process.env.BRAID_COMPILE_CACHE === 'off') return undefined;
  if (process.env.BRAID_COMPILE_CACHE) return process.env.BRAID_COMPILE_CACHE;
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  return uid === 0 ? '/var/cache/braid' : path.join(os.tmpdir(), `braid-cache-${uid}`);
}

// Only a private directory of our own: cached bytecode from anyone else would be code we run.
function privateDir(dir) {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

const CACHE_VERBS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];
const pendingWrites = [];
function compile(name, code) {
  const dir = cacheDir();
  const usable = dir !== undefined && privateDir(dir);
  // One cache per verb: V8 caches what has been compiled when it is written, so VERSION's cache
  // would leave ADD's functions cold. The names are a fixed set: whatever CNI_COMMAND a caller
  // passes, at most these files exist.
  const verb = process.env.CNI_COMMAND;
  const flavour = process.argv[2] ? 'cli' : CACHE_VERBS.includes(verb) ? verb : 'other';
  const file = usable ? path.join(dir, `${name}-${flavour}-${HASH}-${process.version}-${process.arch}.v8`) : undefined;
  let cachedData;
  if (file) {
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
    filename: `braid-${name}.js`,
    cachedData,
  });
  if (file && (!cachedData || script.cachedDataRejected)) pendingWrites.push({ file, script });
  return script.runInThisContext();
}

// Written at exit, so functions compiled while serving the call are in the cache too; caches
// of other builds are removed then, so upgrades don't pile them up.
process.once('exit', () => {
  for (const { file, script } of pendingWrites) {
    try {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, file);
      const dir = path.dirname(file);
      for (const old of fs.readdirSync(dir)) if (old.endsWith('.v8') && !old.includes(`-${HASH}-`)) fs.rmSync(path.join(dir, old), { force: true });
    } catch {
      // a cache is an optimisation; never fail a CNI call over it
    }
  }
});

let heavy;
globalThis.__braidHeavy = (spec) => {
  if (!heavy) {
    const m = { exports: {} };
    const code = require('node:zlib').brotliDecompressSync(Buffer.from(HEAVY_BR, 'base64')).toString('utf8');
    compile('heavy', code)(m.exports, require, m, __filename, __dirname);
    heavy = m.exports;
  }
  return heavy[spec];
};

const app = { exports: {} };
compile('app', APP)(app.exports, require, app, __filename, __dirname);
