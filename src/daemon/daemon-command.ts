// `braid daemon` (thick mode): one long-lived process per node that serves the shim's
// CNI requests over a unix socket, keeps informer caches of its node's pods and of all NADs,
// limits concurrent delegates, exposes health and metrics, reloads its config on change and
// finishes in-flight requests before it exits.
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import type { Server } from 'node:http';
import { existingFile, parseFlags, seconds, socketPath, UsageError } from '../cli/flags.js';
import { execaExec, freezePluginEnv, makePluginExec, type PluginExec } from '../engine/exec-plugin.js';
import { buildContext } from '../meta/context.js';
import { sweepLocked } from '../meta/sweep.js';
import { loadSpawner, spawnerBeside } from '../engine/spawner.js';
import { inClusterCredentials } from '../k8s/credentials.js';
import { configureLogger, log } from '../log.js';
import { CniEndpoint } from './cni-endpoint.js';
import { ConfigWatcher, loadDaemonConfig, type LoadedConfig } from './config-reload.js';
import { InformerCache } from './informer-cache.js';
import type { Backoff } from './informer.js';
import { OperationLocks, Semaphore, limitExec } from './limiter.js';
import { DaemonMetrics } from './metrics.js';
import { createDaemonServer, type DaemonRoutes } from './server.js';
import { DEFAULT_SOCKET, listenOnSocket, removeSocket, type SocketHandle } from './socket.js';
import { StatusQueue } from './status-queue.js';
import { fileStore } from './status-store.js';

export const DAEMON_USAGE = `Usage: braid daemon --config FILE [options]

Serves braid's CNI requests over a unix socket (thick mode). Runtimes call the braid-shim
binary through a CNI entry {"type": "braid-shim", "daemonSocket": PATH, ...}.

Options:
  --config FILE             braid's configuration (a "type": "braid" .conf, or a conflist);
                            Multus thick's daemon-config.json works unchanged
  --socket PATH             unix socket (default: the config's daemonSocket, else ${DEFAULT_SOCKET})
  --metrics-address H:P     also serve /metrics, /healthz and /readyz over TCP, e.g. 127.0.0.1:9091
  --node-name NAME          this node, for the pod informer (default: $NODE_NAME, else the hostname)
  --max-delegates N         delegate plugins running at once (default: 2 per CPU, at least 4)
  --shutdown-timeout SEC    how long SIGTERM waits for in-flight requests (default: 60)
  --sweep-interval SEC      how often to look for records of containers that no longer exist
                            and tear them down (default 300; 0: never)
  --sweep-grace SEC         how long a recorded netns must have been gone first (default 300)
  --api-backoff-initial D   first wait before retrying a failed informer list/watch or
                            network-status write, e.g. 500ms, 2s (default: 500ms)
  --api-backoff-max D       longest wait between those retries, e.g. 30s, 1m (default: 30s)
  --no-spawner              fork delegates from the daemon itself (default: through braid-spawner,
                            the small C helper beside the braid binary, when it is there)
  -h, --help                show this help
`;

interface DaemonOptions {
  configFile: string;
  socket: string | undefined;
  metricsAddress: { host: string; port: number } | undefined;
  nodeName: string;
  maxDelegates: number;
  shutdownTimeoutMs: number;
  spawner: boolean;
  sweepIntervalMs: number;
  sweepGraceMs: number;
  apiBackoff: Backoff;
}

function positiveInt(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag}: ${JSON.stringify(v)}: not a positive integer`);
  return n;
}

/** "250ms", "2s", "1.5m" (a bare number is seconds) to milliseconds. */
function duration(v: string | undefined, flag: string, dfltMs: number): number {
  if (v === undefined) return dfltMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!(ms >= 1 && ms <= 3_600_000)) throw new UsageError(`${flag}: ${JSON.stringify(v)}: not a duration from 1ms to 60m (e.g. 500ms, 2s, 1m)`);
  return Math.round(ms);
}

function hostPort(v: string | undefined): DaemonOptions['metricsAddress'] {
  if (v === undefined) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new UsageError(`--metrics-address: ${JSON.stringify(v)}: not HOST:PORT (e.g. 127.0.0.1:9091)`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function parseOptions(argv: string[]): DaemonOptions | 'help' {
  const values = parseFlags(argv, {
    config: { type: 'string' },
    socket: { type: 'string' },
    'metrics-address': { type: 'string' },
    'node-name': { type: 'string' },
    'max-delegates': { type: 'string' },
    'shutdown-timeout': { type: 'string' },
    'no-spawner': { type: 'boolean' },
    'sweep-interval': { type: 'string' },
    'sweep-grace': { type: 'string' },
    'api-backoff-initial': { type: 'string' },
    'api-backoff-max': { type: 'string' },
  });
  const str = (k: string) => values[k] as string | undefined;
  if (values.help) return 'help';
  const config = str('config');
  if (!config) throw new UsageError('--config FILE is required');
  const apiBackoff = {
    initialMs: duration(str('api-backoff-initial'), '--api-backoff-initial', 500),
    maxMs: duration(str('api-backoff-max'), '--api-backoff-max', 30_000),
  };
  if (apiBackoff.maxMs < apiBackoff.initialMs) throw new UsageError(`--api-backoff-max: ${JSON.stringify(str('api-backoff-max'))}: shorter than --api-backoff-initial`);
  // What the flags say first, then what the filesystem says about the paths they name.
  const o = {
    apiBackoff,
    metricsAddress: hostPort(str('metrics-address')),
    nodeName: str('node-name') || process.env.NODE_NAME || hostname(),
    maxDelegates: positiveInt(str('max-delegates'), '--max-delegates', Math.max(4, 2 * availableParallelism())),
    shutdownTimeoutMs: positiveInt(str('shutdown-timeout'), '--shutdown-timeout', 60) * 1000,
    spawner: !values['no-spawner'],
    sweepIntervalMs: seconds('--sweep-interval', str('sweep-interval'), 300) * 1000,
    sweepGraceMs: seconds('--sweep-grace', str('sweep-grace'), 300) * 1000,
  };
  return {
    ...o,
    configFile: existingFile('--config', config),
    socket: str('socket') === undefined ? undefined : socketPath('--socket', str('socket')!),
  };
}

function configureDaemonLogger(c: LoadedConfig): void {
  // A daemon's lifecycle is worth seeing by default: info, not the one-shot warn.
  configureLogger({ logFile: c.config.logFile, logLevel: c.config.logLevel ?? 'info', logToStderr: c.config.logToStderr });
}

/**
 * In the DaemonSet, braid install writes the kubeconfig the daemon's config names (before the
 * entry that sends the runtime to the daemon), and both containers start at once: until the
 * file exists the daemon serves as braid does without a kubeconfig and says so on /readyz,
 * rather than exit and wait out a restart backoff.
 */
const kubeconfigPending = (c: LoadedConfig) => !!c.config.kubeconfig && !existsSync(c.config.kubeconfig);
const KUBECONFIG_POLL_MS = 1000;

async function makeCache(c: LoadedConfig, o: DaemonOptions, metrics: DaemonMetrics): Promise<InformerCache | undefined> {
  // No kubeconfig: the ServiceAccount's in-cluster credentials when the daemon runs in a pod.
  if (kubeconfigPending(c) || (!c.config.kubeconfig && !inClusterCredentials())) return undefined;
  const cache = await InformerCache.create({
    kubeconfig: c.config.kubeconfig,
    nodeName: o.nodeName,
    apiTimeoutMs: c.config.apiTimeout * 1000,
    observe: metrics.observeApi,
    onLookup: (resource, result) => metrics.cacheLookups.inc({ resource, result }),
    onRestart: (resource) => metrics.informerRestarts.inc({ resource }),
    onRelist: (resource) => metrics.informerRelists.inc({ resource }),
    backoff: o.apiBackoff,
  });
  cache.start();
  return cache;
}

const listenTcp = (server: Server, host: string, port: number) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

const closeServer = (server: Server | undefined) =>
  new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });

/**
 * The periodic sweep of orphan records: a netns must be seen gone for the whole grace period
 * (remembered between sweeps), so a runtime's own DEL goes first and a netns briefly out of
 * view is never taken for a gone one.
 */
function startSweeper(o: DaemonOptions, raw: () => Record<string, unknown>, exec: PluginExec, metrics: DaemonMetrics): NodeJS.Timeout | undefined {
  if (o.sweepIntervalMs === 0) return undefined;
  const goneSince = new Map<string, number>();
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      try {
        const ctx = buildContext(
          { command: 'GC', containerId: '', netns: '', ifname: '', args: [], argsRaw: '', path: (process.env.CNI_PATH ?? '/opt/cni/bin').split(':').filter(Boolean) },
          Buffer.from('{}'),
          { baseConfig: raw(), exec, keepLogger: true, onGiveUp: metrics.observeGiveUp },
        );
        const swept = await sweepLocked(ctx, { graceMs: o.sweepGraceMs, goneSince }, 30_000);
        const removed = swept.filter((e) => e.action === 'removed').length;
        if (removed) metrics.sweptRecords.inc(removed);
      } catch (e) {
        log().warn({ err: (e as Error).message }, 'orphan record sweep failed; trying again at the next interval');
      } finally {
        running = false;
      }
    })();
  }, o.sweepIntervalMs);
  timer.unref();
  return timer;
}

export async function daemonMain(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (o === 'help') {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }

  let current: LoadedConfig;
  try {
    current = loadDaemonConfig(o.configFile);
  } catch (e) {
    process.stderr.write(`braid daemon: ${(e as Error).message}\n`);
    return 1;
  }
  configureDaemonLogger(current);
  for (const w of current.warnings) log().warn({ key: w }, `braid configuration: ${w}`);

  const metrics = new DaemonMetrics();
  const delegates = new Semaphore(o.maxDelegates);
  freezePluginEnv(); // the daemon's environment is fixed from here on
  const spawner = o.spawner ? loadSpawner(spawnerBeside()) : undefined;
  const exec = limitExec(metrics.timeExec(spawner ? makePluginExec(spawner.run, metrics.observeRun) : execaExec), delegates);
  let cache: InformerCache | undefined;
  try {
    cache = await makeCache(current, o, metrics);
  } catch (e) {
    process.stderr.write(`braid daemon: ${(e as Error).message}\n`);
    log().fatal({ err: (e as Error).message }, 'braid daemon cannot start');
    return 1;
  }
  const statusQueue = new StatusQueue({
    api: () => cache?.forRequest(),
    backoff: o.apiBackoff,
    onResult: (result) => metrics.statusWrites.inc({ result }),
    onFailedAttempt: (reason) => metrics.statusWriteFailures.inc({ reason }),
    store: fileStore(() => current.config.cniDir),
  });
  statusQueue.resume();
  metrics.setSources({ delegatesWaiting: () => delegates.waiting, informers: () => cache?.stats() ?? [], statusWritesPending: () => statusQueue.size });

  // While the kubeconfig is pending the daemon works as braid does without one: networks from
  // files, selected by the annotations the runtime passes.
  const baseConfig = () => {
    if (cache || !kubeconfigPending(current)) return current.raw;
    const { kubeconfig: _pending, ...rest } = current.raw;
    return rest;
  };
  const endpoint = new CniEndpoint({ snapshot: () => ({ baseConfig: baseConfig(), cache }), exec, locks: new OperationLocks(), metrics, statusQueue });
  let shuttingDown = false;
  const routes: DaemonRoutes = {
    cni: (body) => endpoint.handle(body),
    healthz: () => ({ ok: true, detail: 'ok' }),
    readyz: () => {
      if (shuttingDown) return { ok: false, detail: 'shutting down' };
      if (!cache && current.config.kubeconfig) return { ok: false, detail: `waiting for kubeconfig ${current.config.kubeconfig}` };
      const unhealthy = cache?.unhealthy();
      if (unhealthy) return { ok: false, detail: unhealthy };
      return { ok: true, detail: cache ? 'ok: informer caches synced' : 'ok: no kubeconfig, no informers' };
    },
    metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
  };

  const socketPath = o.socket ?? current.config.daemonSocket ?? DEFAULT_SOCKET;
  const unixServer = createDaemonServer(routes, { cni: true });
  let tcpServer: Server | undefined;
  let socket: SocketHandle | undefined;
  try {
    socket = await listenOnSocket(unixServer, socketPath);
    if (o.metricsAddress) {
      tcpServer = createDaemonServer(routes, { cni: false });
      await listenTcp(tcpServer, o.metricsAddress.host, o.metricsAddress.port);
    }
  } catch (e) {
    process.stderr.write(`braid daemon: ${(e as Error).message}\n`);
    log().fatal({ err: (e as Error).message }, 'braid daemon cannot listen');
    if (socket) removeSocket(socket);
    await Promise.all([closeServer(unixServer), closeServer(tcpServer), cache?.stop()]);
    return 1;
  }

  const watcher = new ConfigWatcher({
    file: o.configFile,
    current,
    onChange: async (next) => {
      const prev = current;
      const apiChanged = next.config.kubeconfig !== prev.config.kubeconfig || next.config.apiTimeout !== prev.config.apiTimeout;
      // Build the new cache first: a kubeconfig that does not load rejects the whole reload.
      const nextCache = apiChanged ? await makeCache(next, o, metrics) : cache;
      const oldCache = cache;
      current = next;
      cache = nextCache;
      if (apiChanged) void oldCache?.stop();
      const logKeys = (c: LoadedConfig) => JSON.stringify([c.config.logFile, c.config.logLevel, c.config.logToStderr]);
      if (logKeys(next) !== logKeys(prev)) configureDaemonLogger(next);
      metrics.configReloads.inc({ result: 'ok' });
      for (const w of next.warnings) log().warn({ key: w }, `braid configuration: ${w}`);
      log().info({ file: o.configFile, informersRestarted: apiChanged }, 'configuration reloaded');
      awaitKubeconfig();
    },
    onInvalid: (err) => {
      metrics.configReloads.inc({ result: 'invalid' });
      log().error({ file: o.configFile, err: err.message }, 'configuration change rejected; keeping the running configuration');
    },
  });
  watcher.start();
  let kubeconfigPoll: NodeJS.Timeout | undefined;
  const awaitKubeconfig = () => {
    if (kubeconfigPoll || cache || !kubeconfigPending(current)) return;
    log().warn({ kubeconfig: current.config.kubeconfig }, 'kubeconfig does not exist yet: serving without informers until it appears');
    kubeconfigPoll = setInterval(() => {
      if (cache || kubeconfigPending(current)) return;
      clearInterval(kubeconfigPoll);
      makeCache(current, o, metrics).then(
        (c) => {
          kubeconfigPoll = undefined;
          cache = c;
          log().info({ kubeconfig: current.config.kubeconfig }, 'kubeconfig appeared: informers started');
        },
        (e: Error) => {
          kubeconfigPoll = undefined;
          log().error({ kubeconfig: current.config.kubeconfig, err: e.message }, 'kubeconfig appeared but does not load; edit it or the configuration');
        },
      );
    }, KUBECONFIG_POLL_MS);
  };
  awaitKubeconfig();

  log().info(
    {
      socket: socketPath,
      metricsAddress: o.metricsAddress,
      nodeName: o.nodeName,
      maxDelegates: o.maxDelegates,
      informers: !!cache,
      delegatesStartedBy: spawner ? spawner.binary : 'the daemon (execa)',
    },
    'braid daemon serving',
  );

  const sweeper = startSweeper(o, () => current.raw, exec, metrics);

  const finished = new Promise<number>((resolve) => {
    const shutdown = async (signal: string) => {
      if (shuttingDown) {
        log().warn({ signal }, 'second signal: exiting without waiting');
        process.exit(130);
      }
      shuttingDown = true;
      log().info({ signal, inflight: endpoint.inflight }, 'shutting down: finishing in-flight requests');
      endpoint.beginShutdown();
      clearInterval(sweeper);
      const closed = Promise.all([closeServer(unixServer), closeServer(tcpServer)]);
      const drained = await endpoint.drain(o.shutdownTimeoutMs);
      if (!drained) log().error({ inflight: endpoint.inflight }, 'shutdown timeout: exiting with requests still running');
      watcher.stop();
      clearInterval(kubeconfigPoll);
      removeSocket(socket);
      statusQueue.stop();
      await cache?.stop();
      if (drained) await Promise.all([closed, spawner?.close()]);
      log().info('braid daemon stopped');
      resolve(drained ? 0 : 1);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGHUP', () => void watcher.check());
  });
  const code = await finished;
  // Anything still holding the loop open (a stuck watch socket) must not keep a stopped daemon.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}
