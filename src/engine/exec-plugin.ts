// Running one plugin binary (pkg/invoke/raw_exec.go): env + stdin in, one JSON document out.
// This is the single seam tests replace (PluginExec).
import { CniError, Code } from '../cni/errors.js';
import type { Verb } from '../cni/env.js';
import { log } from '../log.js';
import { beforeExit } from '../exit-hooks.js';
import { mark } from '../trace.js';
import { loadSpawner, spawnerBeside, type Spawner } from './spawner.js';

export interface ExecRequest {
  pluginPath: string;
  command: Verb;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  path: readonly string[];
  stdin: string;
  timeoutMs?: number;
}

export type PluginExec = (req: ExecRequest) => Promise<unknown>;

const TEXT_BUSY_RETRIES = 5;
const TEXT_BUSY_DELAY_MS = 1000;
export const DEFAULT_TIMEOUT_MS = 60_000;
export const MAX_OUTPUT = 16 * 1024 * 1024;

/** The environment every plugin inherits: braid's own, minus any CNI_ variable. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CNI_')) delete env[k];
  return env;
}

let frozenEnv: NodeJS.ProcessEnv | undefined;
/**
 * For a long-lived process whose environment no longer changes (the daemon): plugins inherit a
 * copy taken now. Copying process.env (a getter per variable) cost ~0.1 ms per plugin run, a
 * noticeable share of the daemon's own CPU per pod. Elsewhere (one-shot calls, tests, the
 * benchmark, which set variables between runs) each run reads process.env afresh.
 */
export function freezePluginEnv(): void {
  frozenEnv = baseEnv();
}

function pluginEnv(req: ExecRequest): NodeJS.ProcessEnv {
  const env = frozenEnv ? { ...frozenEnv } : baseEnv();
  env.CNI_COMMAND = req.command;
  env.CNI_PATH = req.path.join(':');
  if (req.containerId) env.CNI_CONTAINERID = req.containerId;
  if (req.netns) env.CNI_NETNS = req.netns;
  if (req.ifname) env.CNI_IFNAME = req.ifname;
  if (req.args) env.CNI_ARGS = req.args;
  return env;
}

const snippet = (s: string) => (s.length > 512 ? `${s.slice(0, 509)}...` : s).trim();

/** A failed plugin's stdout as its CNI error, keeping its code (libcni pluginErr). */
export function pluginFailure(stdout: string, stderr: string, why: string): CniError {
  if (stdout.trim()) {
    try {
      const e = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
      if (e && typeof e === 'object' && (typeof e.msg === 'string' || typeof e.code === 'number')) {
        const code = typeof e.code === 'number' && e.code > 0 ? e.code : Code.Internal;
        return new CniError(code, typeof e.msg === 'string' ? e.msg : `plugin failed with code ${code}`, typeof e.details === 'string' ? e.details : undefined);
      }
    } catch {
      // fall through: garbage on stdout
    }
    return new CniError(Code.Internal, `plugin ${why} and printed unparsable output ${JSON.stringify(snippet(stdout))}`);
  }
  return new CniError(Code.Internal, stderr.trim() ? `plugin ${why}: ${snippet(stderr)}` : `plugin ${why} with no error message`);
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Readies the default exec ahead of the first delegate (the spawner's start, or execa's ~4 ms
 * of module set-up without one) so that it overlaps an ADD's wait for the API. A macrotask: as a microtask
 * it would run before the API request is sent.
 */
export function preloadExec(): void {
  setImmediate(() => void defaultExec().then((d) => d.spawner?.warm(), () => undefined));
}

/** One run of a plugin binary, however it was started (execa, or braid-spawner). */
export interface RawRun {
  stdout: string;
  stderr: string;
  exitCode?: number;
  signal?: string;
  /** The binary could not be executed: an errno name (ENOENT, EACCES, ETXTBSY ...). */
  spawnError?: string;
  /** Killed for printing more than the output limit. */
  overflow?: boolean;
  /** CPU (user + system, ms) of the plugin and what it waited for, where the runner knows it. */
  cpuMs?: number;
}

/** Starts a plugin: env is the whole environment; kill() SIGKILLs its process group. */
export type Runner = (path: string, env: NodeJS.ProcessEnv, stdin: string) => { done: Promise<RawRun>; kill(): void };

/**
 * Own process group (detached), so a timeout kills the plugin and anything it spawned that
 * still holds its stdout open (otherwise the pipe never closes and the call never returns).
 */
const execaRunner: Runner = (path, env, stdin) => {
  let pid: number | undefined;
  const done = import('execa').then(({ execa }) => {
    const sub = execa(path, [], {
      env,
      extendEnv: false,
      input: stdin,
      detached: true,
      cleanup: true,
      reject: false,
      stripFinalNewline: false,
      maxBuffer: MAX_OUTPUT,
    });
    pid = sub.pid;
    return sub.then((r): RawRun => {
      const spawnError = (r as { code?: string }).code;
      return {
        stdout: String(r.stdout ?? ''),
        stderr: String(r.stderr ?? ''),
        ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
        ...(r.signal ? { signal: r.signal } : {}),
        ...(spawnError && r.exitCode === undefined ? { spawnError } : {}),
        ...(r.isMaxBuffer ? { overflow: true } : {}),
      };
    });
  });
  return { done, kill: () => killGroup(pid) };
};

/**
 * A PluginExec over a Runner: env, timeout, text-file-busy retry, stderr to the log, errors.
 * `observe` sees every finished run (the daemon's per-plugin CPU metric, the benchmark).
 */
export function makePluginExec(run: Runner, observe?: (req: ExecRequest, r: RawRun) => void): PluginExec {
  return async (req) => {
    const name = req.pluginPath.slice(req.pluginPath.lastIndexOf('/') + 1);
    mark(`exec ${name}`);
    const timeout = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      const sub = run(req.pluginPath, pluginEnv(req), req.stdin);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        sub.kill();
      }, timeout);
      const r = await sub.done.finally(() => clearTimeout(timer));
      mark(`exited ${name}`);
      observe?.(req, r);
      const { stdout, stderr } = r;
      if (stderr.trim()) log().info({ plugin: req.pluginPath, command: req.command, stderr: snippet(stderr) }, 'delegate stderr');
      // The binary is being replaced (an upgrade in progress): libcni retries a few times.
      if (r.spawnError === 'ETXTBSY' && attempt < TEXT_BUSY_RETRIES) {
        await new Promise((res) => setTimeout(res, TEXT_BUSY_DELAY_MS));
        continue;
      }
      if (timedOut) throw new CniError(Code.Internal, `plugin timed out after ${Math.round(timeout / 1000)}s and was killed`);
      if (r.overflow) throw new CniError(Code.Internal, `plugin printed more than ${MAX_OUTPUT >> 20} MiB and was killed`);
      if (r.spawnError) throw new CniError(Code.Internal, `failed to execute plugin ${req.pluginPath}: ${r.spawnError}`);
      if (r.signal) throw pluginFailure(stdout, stderr, `was killed by ${r.signal}`);
      if (r.exitCode !== 0) throw pluginFailure(stdout, stderr, `exited with status ${r.exitCode}`);
      if (!stdout.trim()) return undefined;
      try {
        return JSON.parse(stdout);
      } catch {
        throw new CniError(Code.DecodeFailure, `plugin succeeded but its output is not JSON: ${JSON.stringify(snippet(stdout))}`);
      }
    }
  };
}

/** Plugins started by this process with execa (a fork of this process per plugin). */
export const execaExec: PluginExec = makePluginExec(execaRunner);

let chosen: Promise<{ exec: PluginExec; spawner?: Spawner }> | undefined;
/**
 * How braid runs plugins by default: through braid-spawner when it sits beside the running
 * bundle (a fork from a ~1 MB process instead of this ~60 MB one: ~2 ms less per plugin), else
 * with execa. BRAID_SPAWNER=0 forces execa.
 */
function defaultExec(): Promise<{ exec: PluginExec; spawner?: Spawner }> {
  return (chosen ??= (async () => {
    const spawner = process.env.BRAID_SPAWNER === '0' ? undefined : loadSpawner(spawnerBeside());
    if (spawner) beforeExit(() => releaseSpawner(spawner));
    return spawner ? { exec: makePluginExec(spawner.run), spawner } : { exec: execaExec };
  })());
}

export const execPlugin: PluginExec = async (req) => (await defaultExec()).exec(req);

/**
 * Stops a spawner this process started and waits for it (well under a millisecond when idle),
 * so braid leaves no process behind for init to reap. Bounded, so a plugin still running after
 * a timeout kill cannot hold braid's exit.
 */
async function releaseSpawner(spawner: Spawner): Promise<void> {
  if (!spawner.pid) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([spawner.close(), new Promise((r) => (timer = setTimeout(r, 1000).unref()))]);
  clearTimeout(timer);
}
