// Multus's own config files, read as braid's: the thin plugin's 00-multus.conf (Multus pkg/types
// NetConf) and the thick plugin's daemon-config.json (pkg/server/config MultusConf plus the
// daemon's ControllerNetConf). Every key Multus knows is in MULTUS_KEYS with what braid does with
// it, so nothing is dropped silently. Pure.

export type KeyStatus = 'mapped' | 'ignored' | 'unsupported';
export type MultusFile = 'thin' | 'thick';

export interface MultusKey {
  key: string;
  /** The files Multus reads it from. */
  files: MultusFile[];
  status: KeyStatus;
  /** What it becomes in braid, or why braid has no use for it. */
  braid: string;
}

const BOTH: MultusFile[] = ['thin', 'thick'];
const THICK: MultusFile[] = ['thick'];
const k = (key: string, files: MultusFile[], status: KeyStatus, braid: string): MultusKey => ({ key, files, status, braid });

export const MULTUS_KEYS: MultusKey[] = [
  k('cniVersion', BOTH, 'mapped', 'cniVersion of braid\'s entry'),
  k('name', BOTH, 'mapped', 'name of braid\'s entry'),
  k('type', BOTH, 'mapped', '"multus" / "multus-shim" read as braid (braid is the plugin now)'),
  k('capabilities', BOTH, 'mapped', 'capabilities of braid\'s entry (the runtime passes them in runtimeConfig)'),
  k('runtimeConfig', ['thin'], 'mapped', 'runtimeConfig, forwarded to the cluster network'),
  k('prevResult', ['thin'], 'ignored', 'braid is never chained after another plugin'),
  k('ipam', ['thin'], 'ignored', 'a meta-plugin allocates no addresses; its delegates do'),
  k('dns', ['thin'], 'ignored', 'a meta-plugin sets no DNS; its delegates do'),
  k('args', ['thin'], 'mapped', 'args (per call, from the runtime)'),
  k('kubeconfig', BOTH, 'mapped', 'kubeconfig'),
  k('clusterNetwork', BOTH, 'mapped', 'clusterNetwork (NAD name, file, directory)'),
  k('defaultNetworks', BOTH, 'mapped', 'defaultNetworks'),
  k('delegates', ['thin'], 'mapped', 'delegates (the first is the cluster network when clusterNetwork is absent)'),
  k('confDir', BOTH, 'mapped', 'confDir (on-disk networks; Multus\'s default /etc/cni/multus/net.d, braid\'s /etc/cni/braid/net.d)'),
  k('cniDir', BOTH, 'mapped', 'in 00-multus.conf: cniDir, braid\'s state; in daemon-config.json: multusCniDir. Either way braid tears down the pods Multus attached from Multus\'s cache in multusCniDir (default /var/lib/cni/multus)'),
  k('binDir', BOTH, 'mapped', 'binDir (":"-separated)'),
  k('logFile', BOTH, 'mapped', 'logFile'),
  k('logLevel', BOTH, 'mapped', 'logLevel (debug, verbose, error, panic map to pino\'s levels)'),
  k('logToStderr', BOTH, 'mapped', 'logToStderr'),
  k('logOptions', BOTH, 'ignored', 'log rotation (maxAge, maxSize, maxBackups, compress): rotate braid\'s logFile with logrotate'),
  k('readinessindicatorfile', BOTH, 'mapped', 'readinessindicatorfile'),
  k('namespaceIsolation', BOTH, 'mapped', 'namespaceIsolation'),
  k('globalNamespaces', BOTH, 'mapped', 'globalNamespaces'),
  k('systemNamespaces', BOTH, 'mapped', 'systemNamespaces'),
  k('multusNamespace', BOTH, 'mapped', 'multusNamespace'),
  k('retryDeleteOnError', BOTH, 'ignored', 'braid\'s DEL always tries every delegate and reports each failure'),
  k('auxiliaryCNIChainName', BOTH, 'unsupported', 'Multus\'s auxiliary CNI chain (plugins chained after the cluster network from a second file) has no braid equivalent: put them in the cluster network\'s conflist'),
  k('disableCheck', ['thin'], 'mapped', 'list-level key, accepted'),
  k('disableGC', ['thin'], 'mapped', 'list-level key, accepted'),
  k('cniVersions', ['thin'], 'mapped', 'list-level key, accepted'),
  // thick daemon-config.json only
  k('chrootDir', THICK, 'ignored', 'braid runs delegates with the host\'s paths mounted at the same paths; no chroot'),
  k('socketDir', THICK, 'mapped', 'daemonSocket = <socketDir>/braid.sock'),
  k('daemonSocketDir', THICK, 'mapped', 'daemonSocket = <daemonSocketDir>/braid.sock (socketDir wins)'),
  k('metricsPort', THICK, 'ignored', 'braid daemon serves metrics on --metrics-address (braid manifests: port 9091)'),
  k('perNodeCertificate', THICK, 'unsupported', 'per-node client certificates: give braid a kubeconfig (braid install builds one from the service account)'),
  k('cniConfigDir', THICK, 'mapped', 'where the runtime\'s CNI configs are (braid install --cni-conf-dir); the cluster network\'s directory when multusAutoconfigDir is absent'),
  k('multusConfigFile', THICK, 'mapped', '"auto": the cluster network is the runtime\'s first config in multusAutoconfigDir (clusterNetwork = that directory, or its multusMasterCNI file); a file path: use that file as braid\'s config instead'),
  k('multusAutoconfigDir', THICK, 'mapped', 'clusterNetwork = this directory (lexical order, meta-plugin entries skipped)'),
  k('multusMasterCNI', THICK, 'mapped', 'clusterNetwork = <multusAutoconfigDir>/<multusMasterCNI>'),
  k('forceCNIVersion', THICK, 'ignored', 'braid speaks the cluster network\'s cniVersion and converts results itself'),
  k('overrideNetworkName', THICK, 'ignored', 'braid\'s entry always has its own name'),
];

const BY_LOWER = new Map(MULTUS_KEYS.map((m) => [m.key.toLowerCase(), m]));
const THICK_ONLY = MULTUS_KEYS.filter((m) => m.files.length === 1 && m.files[0] === 'thick').map((m) => m.key);

/** A thick daemon-config.json: no braid type, and at least one key only the daemon reads. */
export function isMultusDaemonConfig(obj: Record<string, unknown>): boolean {
  const type = obj.type;
  if (type !== undefined && type !== 'multus-shim' && type !== 'multus') return false;
  return Object.keys(obj).some((key) => THICK_ONLY.some((t) => t.toLowerCase() === key.toLowerCase()));
}

export interface KeyReport {
  key: string;
  status: KeyStatus | 'unknown';
  note: string;
}

// Multus's thick DaemonSet mounts host directories under /host; braid's mounts them at their own
// paths, so /host/etc/cni/net.d is the host's /etc/cni/net.d.
const hostPath = (p: string) => (p === '/host' ? '/' : p.startsWith('/host/') ? p.slice('/host'.length) : p);
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * braid's config from a Multus thick daemon-config.json, and a line per key saying what became
 * of it. The thin keys the daemon also reads keep their names.
 */
export function fromMultusDaemonConfig(obj: Record<string, unknown>): { config: Record<string, unknown>; report: KeyReport[] } {
  const config: Record<string, unknown> = {};
  const report: KeyReport[] = [];
  const get = (key: string) => Object.entries(obj).find(([k2]) => k2.toLowerCase() === key.toLowerCase())?.[1];
  for (const [key, value] of Object.entries(obj)) {
    const known = BY_LOWER.get(key.toLowerCase());
    if (!known) {
      report.push({ key, status: 'unknown', note: 'not a Multus key; passed to braid as is' });
      config[key] = value;
      continue;
    }
    let note = known.braid;
    switch (known.key) {
      case 'type':
        config.type = 'braid';
        break;
      case 'cniDir':
        if (str(value)) config.multusCniDir = hostPath(str(value)!);
        break;
      case 'socketDir':
      case 'daemonSocketDir': {
        const dir = str(get('socketDir')) ?? str(get('daemonSocketDir'));
        if (dir) {
          config.daemonSocket = `${hostPath(dir).replace(/\/+$/, '')}/braid.sock`;
          note = `daemonSocket ${String(config.daemonSocket)}`;
        }
        break;
      }
      case 'multusConfigFile':
        if (value !== 'auto' && value !== undefined) note = `${String(value)} is a whole Multus config: run braid from that file instead (its keys are braid's)`;
        break;
      case 'cniConfigDir':
      case 'multusAutoconfigDir':
      case 'multusMasterCNI':
      case 'chrootDir':
      case 'metricsPort':
      case 'perNodeCertificate':
      case 'forceCNIVersion':
      case 'overrideNetworkName':
      case 'logOptions':
      case 'retryDeleteOnError':
      case 'auxiliaryCNIChainName':
      case 'prevResult':
      case 'ipam':
      case 'dns':
        break;
      default:
        config[known.key] = typeof value === 'string' && /^(confDir|binDir|logFile|kubeconfig|readinessindicatorfile|clusterNetwork)$/.test(known.key) && value.startsWith('/') ? hostPath(value) : value;
    }
    report.push({ key, status: known.status, note });
  }
  config.type = 'braid';
  // multusConfigFile "auto" (its default): the cluster network is the runtime's default network.
  const auto = (get('multusConfigFile') ?? 'auto') === 'auto';
  if (config.clusterNetwork === undefined && auto) {
    const dir = hostPath(str(get('multusAutoconfigDir')) ?? str(get('cniConfigDir')) ?? '/etc/cni/net.d');
    const master = str(get('multusMasterCNI'));
    config.clusterNetwork = master ? `${dir.replace(/\/+$/, '')}/${master}` : dir;
  }
  return { config, report };
}

/** The report as log lines: "key: status, what braid does". */
export const reportLines = (report: KeyReport[]) => report.map((r) => `Multus key ${JSON.stringify(r.key)}: ${r.status}, ${r.note}`);

// Keys braid install writes itself (from its flags and the node), whatever the Multus file says.
const INSTALL_OWNS: Record<string, string> = {
  type: 'braid install writes "type": "braid"',
  name: "braid's entry has its own name",
  cniVersion: "braid's entry speaks the cluster network's cniVersion",
  capabilities: "braid's entry declares the cluster network's capabilities",
  kubeconfig: 'braid install writes braid.d/braid.kubeconfig (--kubeconfig or the service account)',
};
// Keys carried into braid's entry unchanged.
const CARRIED = new Set([
  'clusterNetwork', 'defaultNetworks', 'confDir', 'binDir', 'logFile', 'logLevel', 'logToStderr', 'readinessindicatorfile',
  'namespaceIsolation', 'globalNamespaces', 'systemNamespaces', 'multusNamespace', 'daemonSocket', 'multusCniDir',
]);

/**
 * `braid install --from-multus FILE`: the keys of a Multus file (thin 00-multus.conf or thick
 * daemon-config.json) to carry into braid's entry, and a line per key saying what became of it.
 * Multus's cniDir holds its cache of the pods it attached, so it becomes multusCniDir; braid
 * keeps its own state in --cni-dir. Without clusterNetwork, Multus's cluster network was its
 * first delegate or the runtime's default network: braid install finds the same one.
 */
export function installKeysFromMultus(obj: Record<string, unknown>): { keys: Record<string, unknown>; report: KeyReport[] } {
  const thick = isMultusDaemonConfig(obj);
  const source = thick ? fromMultusDaemonConfig(obj) : { config: obj, report: [] as KeyReport[] };
  const explicitCluster = Object.keys(obj).some((k) => k.toLowerCase() === 'clusternetwork');
  const keys: Record<string, unknown> = {};
  const report: KeyReport[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const known = BY_LOWER.get(key.toLowerCase());
    const owned = known && INSTALL_OWNS[known.key];
    if (owned) report.push({ key, status: 'mapped', note: owned });
    else if (known?.key === 'cniDir') {
      keys.multusCniDir = thick ? source.config.multusCniDir : value;
      report.push({ key, status: 'mapped', note: `multusCniDir ${String(keys.multusCniDir)}: braid deletes the pods Multus attached from its cache there` });
    } else if (known?.key === 'delegates') {
      const extra = Array.isArray(value) ? value.length - 1 : 0;
      report.push({
        key,
        status: extra > 0 ? 'unsupported' : 'mapped',
        note: extra > 0
          ? `the first delegate is the cluster network braid install finds; the other ${extra} must become NADs listed in defaultNetworks`
          : 'the cluster network: braid install finds the same one (the runtime\'s first config)',
      });
    } else if (known && CARRIED.has(known.key)) {
      keys[known.key] = thick ? (source.config[known.key] ?? value) : value;
      report.push({ key, status: 'mapped', note: `${known.key} carried into braid's entry` });
    } else if (known) {
      report.push({ key, status: known.status === 'mapped' ? 'ignored' : known.status, note: known.braid });
    } else report.push({ key, status: 'unknown', note: 'not a Multus key; left out' });
  }
  // Thick: socketDir/daemonSocketDir became daemonSocket; the thick cluster network is the node's default.
  if (thick && source.config.daemonSocket !== undefined) keys.daemonSocket = source.config.daemonSocket;
  if (!explicitCluster) delete keys.clusterNetwork;
  return { keys, report };
}
