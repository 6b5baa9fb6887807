// `braid install` flags: one normalisation step from argv to a typed value, then a check of the
// paths they name against the filesystem; a bad flag is a usage error (exit 2) that names the
// flag and the value received.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { dirOrCreatable, existingFile, parseFlags, UsageError } from '../cli/flags.js';
import { LOG_LEVELS } from '../meta/braid-config.js';
import { kubeconfigProblem, SERVICE_ACCOUNT_DIR } from './kubeconfig.js';
import { installKeysFromMultus } from '../meta/multus-config.js';

export const DEFAULT_DAEMON_SOCKET = '/run/braid/braid.sock';

export const INSTALL_HELP = `braid install: make braid the node's default CNI network

Usage:
  braid install [options]

Copies this braid binary into the CNI bin dir, finds the node's default network (the
lexically first .conf/.conflist/.json in the conf dir that is not a braid or Multus entry;
waits for one to appear), and writes beside it:
  <conf-dir>/00-braid.conflist        braid in front of that network: its cniVersion, its
                                      capabilities, clusterNetwork = its file
  <conf-dir>/braid.d/braid.kubeconfig from --kubeconfig, or built from the pod's service
                                      account (KUBERNETES_SERVICE_HOST/PORT and
                                      $BRAID_SA_DIR, default ${SERVICE_ACCOUNT_DIR})
Files are replaced atomically and only when their content changes; no other file in the
conf dir is ever modified or deleted.

Options:
  --cni-conf-dir DIR     runtime's CNI config dir (default /etc/cni/net.d); it may not exist
                         yet (braid waits for it), but its parent must
  --cni-bin-dir DIR      CNI plugin dir braid is copied into (default /opt/cni/bin); created
                         if missing, when its parent exists
  --kubeconfig FILE      kubeconfig to copy into braid.d (default: the service account); it
                         must parse and name a cluster server, or braid install stops here
  --wait-timeout SECS    how long to wait for the conf dir and a default network in it;
                         0 = forever (default 600)
  --watch                keep running: regenerate when the default network's file changes,
                         another file takes its place, or the token rotates; remove the
                         entry while no default network exists
  --cleanup-on-exit      with --watch: on SIGTERM/SIGINT remove the files braid wrote
  --one-shot             write a braid entry: the runtime runs braid itself per CNI call,
                         so the host needs Node.js 20+ (no daemon, no Kubernetes needed)
  --daemon               the default: write a braid-shim entry for the braid daemon (copies
                         braid-shim, a small C program, next to braid)
  --daemon-socket PATH   the daemon's socket (default ${DEFAULT_DAEMON_SOCKET})
  --dry-run              print what would be written and change nothing
  --from-multus FILE     carry a Multus config's settings into braid's entry: its thin
                         00-multus.conf or thick daemon-config.json, unchanged; every key is
                         reported as mapped, ignored or unsupported (one-shot entries only:
                         the daemon reads a daemon-config.json itself, braid daemon --config)
  --if-multus MODE       when Multus's entry (00-multus.conf) is in the conf dir:
                         takeover (default): write braid's entry anyway; it sorts first, so
                           new pods go to braid, and braid tears down the pods Multus attached
                           from Multus's cache (said on stderr, not silent)
                         wait: write nothing while Multus's entry is there; with --watch,
                           braid's entry appears the moment Multus's goes (e.g. Multus's
                           DaemonSet leaves the node and removes it)
  --networks-dir DIR     braid's confDir: on-disk networks (default /etc/cni/braid/net.d)
  --cni-dir DIR          braid's state dir (default /var/lib/cni/braid)
  --log-file FILE        braid's log file; "" logs to the runtime's stderr (default /var/log/braid.log)
  --log-level LEVEL      braid's log level (default warn)
  --source FILE          the braid binary to install (default: the one running)
  -h, --help             this help

Exit status: 0 done (or stopped cleanly with --watch), 1 failure (e.g. no default network
within --wait-timeout), 2 usage error.
`;

export interface InstallOptions {
  confDir: string;
  binDir: string;
  kubeconfig: string | undefined;
  waitTimeoutS: number;
  watch: boolean;
  cleanupOnExit: boolean;
  daemon: boolean;
  daemonSocket: string;
  dryRun: boolean;
  networksDir: string;
  cniDir: string;
  logFile: string;
  logLevel: string;
  source: string | undefined;
  ifMultus: 'takeover' | 'wait';
  /** --from-multus: the Multus file to carry settings from. */
  fromMultus: string | undefined;
  help: boolean;
}

export { UsageError };

const abs = (flag: string, v: string) => {
  if (v === '') throw new UsageError(`${flag}: "": empty path`);
  return isAbsolute(v) ? v : resolve(v);
};

export function parseInstallArgs(argv: string[]): InstallOptions {
  const values = parseFlags(argv, {
    'cni-conf-dir': { type: 'string', default: '/etc/cni/net.d' },
    'cni-bin-dir': { type: 'string', default: '/opt/cni/bin' },
    kubeconfig: { type: 'string' },
    'wait-timeout': { type: 'string', default: '600' },
    watch: { type: 'boolean', default: false },
    'cleanup-on-exit': { type: 'boolean', default: false },
    daemon: { type: 'boolean', default: false },
    'one-shot': { type: 'boolean', default: false },
    'daemon-socket': { type: 'string', default: DEFAULT_DAEMON_SOCKET },
    'dry-run': { type: 'boolean', default: false },
    'networks-dir': { type: 'string', default: '/etc/cni/braid/net.d' },
    'cni-dir': { type: 'string', default: '/var/lib/cni/braid' },
    'log-file': { type: 'string', default: '/var/log/braid.log' },
    'log-level': { type: 'string', default: 'warn' },
    source: { type: 'string' },
    'if-multus': { type: 'string', default: 'takeover' },
    'from-multus': { type: 'string' },
  });
  const s = (k: string) => values[k] as string;
  const b = (k: string) => values[k] === true;
  const wait = Number(s('wait-timeout'));
  if (!/^\d+(\.\d+)?$/.test(s('wait-timeout')) || !Number.isFinite(wait)) {
    throw new UsageError(`--wait-timeout: ${JSON.stringify(s('wait-timeout'))}: not a number of seconds (0 = forever)`);
  }
  if (b('cleanup-on-exit') && !b('watch')) throw new UsageError('--cleanup-on-exit only makes sense with --watch');
  if (b('dry-run') && b('watch')) throw new UsageError('--dry-run cannot be combined with --watch');
  if (b('daemon') && b('one-shot')) throw new UsageError('--one-shot and --daemon exclude each other');
  if (values['from-multus'] !== undefined && !b('one-shot')) {
    throw new UsageError('--from-multus needs --one-shot: in daemon mode run braid daemon --config with the Multus file itself');
  }
  if (!['takeover', 'wait'].includes(s('if-multus'))) throw new UsageError(`--if-multus: ${JSON.stringify(s('if-multus'))}: not takeover or wait`);
  const logFile = s('log-file');
  if (!(LOG_LEVELS as readonly string[]).includes(s('log-level').toLowerCase())) {
    throw new UsageError(`--log-level: ${JSON.stringify(s('log-level'))}: not one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    confDir: abs('--cni-conf-dir', s('cni-conf-dir')),
    binDir: abs('--cni-bin-dir', s('cni-bin-dir')),
    kubeconfig: values.kubeconfig === undefined ? undefined : abs('--kubeconfig', s('kubeconfig')),
    waitTimeoutS: wait,
    watch: b('watch'),
    cleanupOnExit: b('cleanup-on-exit'),
    daemon: !b('one-shot'),
    daemonSocket: abs('--daemon-socket', s('daemon-socket')),
    dryRun: b('dry-run'),
    networksDir: abs('--networks-dir', s('networks-dir')),
    cniDir: abs('--cni-dir', s('cni-dir')),
    logFile: logFile === '' ? '' : abs('--log-file', logFile),
    logLevel: s('log-level'),
    source: values.source === undefined ? undefined : abs('--source', s('source')),
    ifMultus: s('if-multus') as 'takeover' | 'wait',
    fromMultus: values['from-multus'] === undefined ? undefined : abs('--from-multus', s('from-multus')),
    help: b('help'),
  };
}

/**
 * The paths the flags name, checked before anything is copied or written. The conf dir may
 * not exist yet (braid install waits for it, as for a default network in it), but its parent
 * must: a path whose parent is missing too is a typo, and waiting --wait-timeout for it helps
 * no one. The bin dir is created when missing, under the same rule.
 */
/** The settings a Multus file carries into braid's entry, and the report; a bad file is a usage error. */
export function multusKeysFrom(file: string): ReturnType<typeof installKeysFromMultus> {
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(existingFile('--from-multus', file), 'utf8'));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--from-multus: ${file}: not JSON (${(e as Error).message})`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new UsageError(`--from-multus: ${file}: not a JSON object`);
  return installKeysFromMultus(obj as Record<string, unknown>);
}

export async function checkInstallInputs(o: InstallOptions): Promise<void> {
  dirOrCreatable('--cni-conf-dir', o.confDir);
  dirOrCreatable('--cni-bin-dir', o.binDir);
  if (o.source !== undefined) existingFile('--source', o.source);
  if (o.fromMultus !== undefined) multusKeysFrom(o.fromMultus);
  if (o.kubeconfig !== undefined) {
    const problem = await kubeconfigProblem(readFileSync(existingFile('--kubeconfig', o.kubeconfig), 'utf8'));
    if (problem) throw new UsageError(`--kubeconfig: ${o.kubeconfig}: ${problem}`);
  }
}
