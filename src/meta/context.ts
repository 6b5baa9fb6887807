// Everything a verb needs, built once per CNI call from env + stdin.
import { parseJsonObject } from '../cni/config.js';
import { podIdentity } from '../cni/cni-args.js';
import type { CniRequestEnv } from '../cni/env.js';
import type { RuntimeConf } from '../engine/engine.js';
import { pickVersion, type SpecVersion } from '../cni/version.js';
import { Engine } from '../engine/engine.js';
import type { PluginExec } from '../engine/exec-plugin.js';
import { configureLogger, log } from '../log.js';
import type { KubeApi } from '../k8s/kube-api.js';
import { parseBraidConfig, type BraidConfig } from './braid-config.js';
import type { StatusWriter } from './status-write.js';

export interface PodRef {
  namespace: string;
  name: string;
  uid?: string | undefined;
}

export interface MetaContext {
  env: CniRequestEnv;
  config: BraidConfig;
  callerVersion: SpecVersion;
  engine: Engine;
  pod: PodRef | undefined;
  /** Created on first use, so DEL and file-only setups never load the Kubernetes client. */
  api(): Promise<KubeApi | undefined>;
  /** Told each time DEL gives up on an attachment whose ADD never succeeded (the daemon counts them). */
  onGiveUp?: GiveUpObserver;
  /** The daemon's background writer of network-status; one-shot mode writes it itself. */
  statusWriter: StatusWriter | undefined;
}

/** `leftovers`: how many things braid could not release itself. */
export type GiveUpObserver = (e: { leftovers: number }) => void;

export interface ContextOverrides {
  exec?: PluginExec;
  api?: KubeApi;
  /**
   * Daemon mode: braid's config comes from the daemon's --config file; stdin (the shim's CNI
   * entry) contributes only what the runtime sets per call.
   */
  baseConfig?: Record<string, unknown>;
  /** The daemon configures logging once, not per call. */
  keepLogger?: boolean;
  onGiveUp?: GiveUpObserver;
  statusWriter?: StatusWriter;
}

// Keys a runtime sets on the entry it calls; everything else comes from the daemon's config.
const PER_CALL_KEYS = ['cniVersion', 'cniVersions', 'name', 'runtimeConfig', 'args', 'prevResult'] as const;

function effectiveConfig(stdinObj: Record<string, unknown>, base: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!base) return stdinObj;
  const out: Record<string, unknown> = { ...base };
  for (const k of PER_CALL_KEYS) if (stdinObj[k] !== undefined) out[k] = stdinObj[k];
  return out;
}

/** The runtime conf of one attachment of this call's container. */
export function runtimeFor(ctx: MetaContext, a: { ifname: string; capabilityArgs: Record<string, unknown> }): RuntimeConf {
  return { containerId: ctx.env.containerId, netns: ctx.env.netns, ifname: a.ifname, args: ctx.env.args, capabilityArgs: a.capabilityArgs };
}

export function buildContext(env: CniRequestEnv, stdin: Buffer, overrides: ContextOverrides = {}): MetaContext {
  const raw = effectiveConfig(parseJsonObject(stdin, 'braid configuration on stdin'), overrides.baseConfig);
  const { config, warnings } = parseBraidConfig(raw);
  // The daemon configures logging and reports its config's warnings once, at load.
  if (!overrides.keepLogger) {
    configureLogger({ logFile: config.logFile, logLevel: config.logLevel, logToStderr: config.logToStderr });
    for (const w of warnings) log().warn({ key: w }, `braid configuration: ${w}`);
  }
  const callerVersion = pickVersion(config.cniVersion ?? '1.0.0', config.cniVersions);
  const engine = new Engine({
    path: [...config.binDir, ...env.path],
    cacheDir: config.cniDir,
    timeoutMs: config.delegateTimeout * 1000,
    ...(overrides.exec ? { exec: overrides.exec } : {}),
  });
  const id = podIdentity(env.args);
  const pod = id.namespace && id.name ? { namespace: id.namespace, name: id.name, uid: id.uid } : undefined;
  let apiPromise: Promise<KubeApi | undefined> | undefined;
  return {
    env,
    config,
    callerVersion,
    engine,
    pod,
    ...(overrides.onGiveUp ? { onGiveUp: overrides.onGiveUp } : {}),
    statusWriter: overrides.statusWriter,
    api() {
      if (overrides.api) return Promise.resolve(overrides.api);
      // No kubeconfig: in-cluster credentials when braid runs in a pod, else no API at all.
      if (!config.kubeconfig && !process.env.KUBERNETES_SERVICE_HOST) return Promise.resolve(undefined);
      apiPromise ??= import('../k8s/kube-api.js').then((m) => m.kubeApiFor(config.kubeconfig, config.apiTimeout * 1000));
      return apiPromise;
    },
  };
}
