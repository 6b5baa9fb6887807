// Running one plugin binary (pkg/invoke/raw_exec.go): env + stdin in, one JSON document out.
// This is the single seam tests replace (PluginExec).
import { CniError, Code } from '../cni/errors.js';
import type { Verb } from '../cni/env.js';
import { log } from '../log.js';
import { mark } from '../trace.js';

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
const MAX_OUTPUT = 16 * 1024 * 1024;

function pluginEnv(req: ExecRequest): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CNI_')) delete env[k];
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
 * Loads execa ahead of the first delegate (~4 ms of module set-up) so that it overlaps an ADD's
 * wait for the API. A macrotask: as a microtask it would run before the API request is sent.
 */
export function preloadExec(): void {
  setImmediate(() => import('execa').catch(() => undefined));
}

export const execPlugin: PluginExec = async (req) => {
  const { execa } = await import('execa');
  const name = req.pluginPath.slice(req.pluginPath.lastIndexOf('/') + 1);
  mark(`exec ${name}`);
  const timeout = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    // Own process group, so a timeout kills the plugin and anything it spawned that still
    // holds its stdout open (otherwise the pipe never closes and the call never returns).
    const sub = execa(req.pluginPath, [], {
      env: pluginEnv(req),
      extendEnv: false,
      input: req.stdin,
      detached: true,
      cleanup: true,
      reject: false,
      stripFinalNewline: false,
      maxBuffer: MAX_OUTPUT,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(sub.pid);
    }, timeout);
    const r = await sub.finally(() => clearTimeout(timer));
    mark(`exited ${name}`);
    const stdout = String(r.stdout ?? '');
    const stderr = String(r.stderr ?? '');
    if (stderr.trim()) log().info({ plugin: req.pluginPath, command: req.command, stderr: snippet(stderr) }, 'delegate stderr');
    const spawnCode = (r as { code?: string }).code;
    // The binary is being replaced (an upgrade in progress): libcni retries a few times.
    if (spawnCode === 'ETXTBSY' && attempt < TEXT_BUSY_RETRIES) {
      await new Promise((res) => setTimeout(res, TEXT_BUSY_DELAY_MS));
      continue;
    }
    if (timedOut) throw new CniError(Code.Internal, `plugin timed out after ${Math.round(timeout / 1000)}s and was killed`);
    if (spawnCode && r.exitCode === undefined) {
      throw new CniError(Code.Internal, `failed to execute plugin ${req.pluginPath}: ${spawnCode}`);
    }
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
