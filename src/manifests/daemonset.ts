// The DaemonSet that runs `braid install --watch --cleanup-on-exit` on every node and, in
// daemon mode (the default), the braid daemon beside it. Host paths are mounted at the same
// paths in the container, so every path the installer writes into 00-braid.conflist is valid
// on the host.
import { NAME } from './rbac.js';

export interface DaemonSetOptions {
  namespace: string;
  /** --namespace was given: emit the Namespace too. */
  createNamespace?: boolean;
  /** Only nodes with these labels run braid (a staged rollout). */
  nodeSelector?: Record<string, string>;
  /** braid install --if-multus. */
  ifMultus?: 'takeover' | 'wait';
  image: string;
  confDir: string;
  binDir: string;
  daemon: boolean;
}

export const DAEMON_CONFIG_PATH = '/etc/cni/braid/daemon.json';
export const DAEMON_SOCKET_DIR = '/run/braid';
export const METRICS_PORT = 9091;
const STATE_DIR = '/var/lib/cni';
const NETWORKS_DIR = '/etc/cni/braid/net.d';
const labels = { 'app.kubernetes.io/name': NAME };

interface HostVolume {
  name: string;
  path: string;
  propagation?: 'HostToContainer';
}

const hostVolume = (v: HostVolume) => ({ name: v.name, hostPath: { path: v.path, type: 'DirectoryOrCreate' } });
const mount = (v: HostVolume) => ({ name: v.name, mountPath: v.path, ...(v.propagation ? { mountPropagation: v.propagation } : {}) });

/** The daemon's config: braid's usual keys (src/meta/braid-config.ts), paths as on the host. */
export function daemonConfig(o: DaemonSetOptions): Record<string, unknown> {
  return {
    type: 'braid',
    clusterNetwork: o.confDir, // a directory: its first config that is not braid's or Multus's
    kubeconfig: `${o.confDir}/braid.d/braid.kubeconfig`,
    confDir: NETWORKS_DIR,
    cniDir: `${STATE_DIR}/braid`,
    binDir: o.binDir,
    daemonSocket: `${DAEMON_SOCKET_DIR}/braid.sock`,
    logLevel: 'warn',
  };
}

export const daemonConfigMap = (o: DaemonSetOptions) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: `${NAME}-daemon-config`, namespace: o.namespace, labels },
  data: { 'daemon.json': `${JSON.stringify(daemonConfig(o), null, 2)}\n` },
});

export function daemonSet(o: DaemonSetOptions): Record<string, unknown> {
  const conf: HostVolume = { name: 'cni-conf', path: o.confDir };
  const bin: HostVolume = { name: 'cni-bin', path: o.binDir };
  const state: HostVolume = { name: 'cni-state', path: STATE_DIR };
  const socket: HostVolume = { name: 'braid-run', path: DAEMON_SOCKET_DIR };
  const networks: HostVolume = { name: 'braid-networks', path: NETWORKS_DIR };
  // The daemon runs delegates in pods' namespaces: the runtime's netns paths must be visible.
  const netns: HostVolume = { name: 'netns', path: '/run/netns', propagation: 'HostToContainer' };
  // Delegates that call iptables (bridge ipMasq, portmap, firewall) run in the daemon's
  // container: they must take the host's xtables lock, not one of their own.
  const xtablesLock = { name: 'xtables-lock', path: '/run/xtables.lock' };
  const installArgs = [
    'install', '--watch', '--cleanup-on-exit', '--cni-conf-dir', o.confDir, '--cni-bin-dir', o.binDir,
    ...(o.ifMultus === 'wait' ? ['--if-multus', 'wait'] : []),
  ];
  const install = {
    name: 'install',
    image: o.image,
    // The socket is named, not left to install's default: the two containers must agree on it.
    command: ['braid', ...installArgs, ...(o.daemon ? ['--daemon', '--daemon-socket', `${DAEMON_SOCKET_DIR}/braid.sock`] : ['--one-shot'])],
    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
    volumeMounts: [conf, bin, state].map(mount),
  };
  const daemon = {
    name: 'daemon',
    image: o.image,
    command: ['braid', 'daemon', '--config', DAEMON_CONFIG_PATH, '--metrics-address', `0.0.0.0:${METRICS_PORT}`],
    // The pod informer watches this node's pods only.
    env: [
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      // A small young generation keeps the daemon's RSS near 110 MiB (V8 reads it at start-up only).
      { name: 'NODE_OPTIONS', value: '--max-semi-space-size=4' },
    ],
    ports: [{ name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' }],
    livenessProbe: { httpGet: { path: '/healthz', port: METRICS_PORT }, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: '/readyz', port: METRICS_PORT }, periodSeconds: 5 },
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    securityContext: { privileged: true },
    volumeMounts: [
      ...[conf, bin, state, socket, networks, netns, xtablesLock].map(mount),
      { name: 'daemon-config', mountPath: DAEMON_CONFIG_PATH, subPath: 'daemon.json', readOnly: true },
    ],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: NAME, namespace: o.namespace, labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          // braid is the pod network: its own pods cannot depend on it.
          hostNetwork: true,
          ...(o.daemon ? { hostPID: true } : {}),
          priorityClassName: 'system-node-critical',
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
          serviceAccountName: NAME,
          tolerations: [{ operator: 'Exists' }],
          terminationGracePeriodSeconds: 10,
          containers: o.daemon ? [install, daemon] : [install],
          volumes: [
            ...[conf, bin, state].map(hostVolume),
            ...(o.daemon
              ? [
                  ...[socket, networks, netns].map(hostVolume),
                  { name: xtablesLock.name, hostPath: { path: xtablesLock.path, type: 'FileOrCreate' } },
                  { name: 'daemon-config', configMap: { name: `${NAME}-daemon-config` } },
                ]
              : []),
          ],
        },
      },
    },
  };
}
