// Prometheus metrics for the daemon: CNI requests by verb and result, request and
// delegate latency, Kubernetes API requests, in-flight work, informer state, config reloads.
import { basename } from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExecRequest, PluginExec, RawRun } from '../engine/exec-plugin.js';
import { toCniError } from '../cni/errors.js';
import type { InformerHealth } from './informer.js';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export type ApiVerb = 'get' | 'list' | 'watch' | 'patch';
export type ApiResource = 'pods' | 'network-attachment-definitions';
/** Called for every request the daemon makes to the Kubernetes API. */
export type ApiObserver = (verb: ApiVerb, resource: ApiResource, ok: boolean) => void;

/** Values read at scrape time. */
export interface MetricSources {
  delegatesWaiting(): number;
  informers(): Array<{ resource: ApiResource; synced: boolean; objects: number; health: InformerHealth }>;
  statusWritesPending(): number;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  private sources: MetricSources = { delegatesWaiting: () => 0, informers: () => [], statusWritesPending: () => 0 };

  readonly cniRequests = new Counter({
    name: 'braid_cni_requests_total',
    help: 'CNI requests answered, by verb and result (code is the CNI error code, 0 on success).',
    labelNames: ['verb', 'result', 'code'] as const,
    registers: this.registers,
  });
  readonly cniDuration = new Histogram({
    name: 'braid_cni_request_duration_seconds',
    help: 'Time to answer a CNI request (ADD, DEL, ...), lock waits included.',
    labelNames: ['verb'] as const,
    buckets: SECONDS,
    registers: this.registers,
  });
  readonly inflight = new Gauge({
    name: 'braid_cni_inflight_operations',
    help: 'CNI requests being served (running or waiting for a lock).',
    labelNames: ['verb'] as const,
    registers: this.registers,
  });
  readonly delegateDuration = new Histogram({
    name: 'braid_delegate_duration_seconds',
    help: 'Run time of one delegate plugin execution, by plugin type and command.',
    labelNames: ['plugin', 'command', 'result'] as const,
    buckets: SECONDS,
    registers: this.registers,
  });
  readonly delegateCpu = new Counter({
    name: 'braid_delegate_cpu_seconds_total',
    help: 'CPU (user + system) used by delegate plugins and the processes they waited for, by plugin type and command (known when braid-spawner starts them).',
    labelNames: ['plugin', 'command'] as const,
    registers: this.registers,
  });
  readonly delegatesRunning = new Gauge({ name: 'braid_delegates_running', help: 'Delegate plugin processes running.', registers: this.registers });
  readonly delegatesWaiting: Gauge = new Gauge({
    name: 'braid_delegates_waiting',
    help: 'Delegate executions waiting for a slot (the --max-delegates limit).',
    registers: this.registers,
    collect: (): void => this.delegatesWaiting.set(this.sources.delegatesWaiting()),
  });
  readonly apiRequests = new Counter({
    name: 'braid_kube_api_requests_total',
    help: 'Requests made to the Kubernetes API, by verb, resource and result.',
    labelNames: ['verb', 'resource', 'result'] as const,
    registers: this.registers,
  });
  readonly cacheLookups = new Counter({
    name: 'braid_informer_cache_lookups_total',
    help: 'Pod and NetworkAttachmentDefinition lookups, by resource and result (hit, miss, negative).',
    labelNames: ['resource', 'result'] as const,
    registers: this.registers,
  });
  readonly informerSynced = new Gauge({
    name: 'braid_informer_synced',
    help: '1 once the informer has listed its resource at least once.',
    labelNames: ['resource'] as const,
    registers: this.registers,
    collect: () => {
      for (const i of this.sources.informers()) this.informerSynced.set({ resource: i.resource }, i.synced ? 1 : 0);
    },
  });
  readonly informerObjects = new Gauge({
    name: 'braid_informer_objects',
    help: 'Objects held in the informer cache.',
    labelNames: ['resource'] as const,
    registers: this.registers,
    collect: () => {
      for (const i of this.sources.informers()) this.informerObjects.set({ resource: i.resource }, i.objects);
    },
  });
  readonly informerRestarts = new Counter({
    name: 'braid_informer_restarts_total',
    help: 'Informer restarts after a list or watch error.',
    labelNames: ['resource'] as const,
    registers: this.registers,
  });
  readonly delGiveUps = new Counter({
    name: 'braid_del_given_up_total',
    help: 'Attachments whose ADD never succeeded (or whose container is gone) that DEL, GC or the sweep gave up tearing down after releasing what it could; leftovers says whether something known stayed behind (see the error log line).',
    labelNames: ['leftovers'] as const,
    registers: this.registers,
  });
  readonly sweptRecords = new Counter({
    name: 'braid_orphan_records_swept_total',
    help: 'Records of containers that no longer exist, removed by the periodic sweep.',
    registers: this.registers,
  });
  readonly informerUp = new Gauge({
    name: 'braid_informer_up',
    help: '1 while the informer\'s last list or watch attempt worked, 0 while it cannot list or watch.',
    labelNames: ['resource'] as const,
    registers: this.registers,
    collect: () => {
      for (const i of this.sources.informers()) this.informerUp.set({ resource: i.resource }, i.health.up ? 1 : 0);
    },
  });
  readonly informerLastError: Gauge = new Gauge({
    name: 'braid_informer_last_error_timestamp_seconds',
    help: 'When the informer last failed to list or watch, with the reason (e.g. "401 Unauthorized", "unreachable (ECONNREFUSED)").',
    labelNames: ['resource', 'reason'] as const,
    registers: this.registers,
    collect: () => {
      this.informerLastError.reset();
      for (const i of this.sources.informers()) {
        const e = i.health.lastError;
        if (e) this.informerLastError.set({ resource: i.resource, reason: e.reason }, e.at / 1000);
      }
    },
  });
  readonly informerRelists = new Counter({
    name: 'braid_informer_relists_total',
    help: 'Lists after an informer\'s first: after a list or watch error, and after 410 Gone.',
    labelNames: ['resource'] as const,
    registers: this.registers,
  });
  readonly statusPending: Gauge = new Gauge({
    name: 'braid_status_writes_pending',
    help: 'network-status writes waiting for the Kubernetes API (retried in the background).',
    registers: this.registers,
    collect: () => this.statusPending.set(this.sources.statusWritesPending()),
  });
  readonly statusWrites = new Counter({
    name: 'braid_status_writes_total',
    help: 'network-status writes by how they ended: written, written_late (after failed attempts), pod_gone, pod_recreated, rejected, superseded (by a newer status), cancelled (by the DEL), abandoned (left on disk to the next daemon as this one stopped).',
    labelNames: ['result'] as const,
    registers: this.registers,
  });
  readonly statusWriteFailures = new Counter({
    name: 'braid_status_write_failed_attempts_total',
    help: 'Failed network-status PATCH attempts that will be retried, by reason (HTTP status, unreachable, timeout).',
    labelNames: ['reason'] as const,
    registers: this.registers,
  });
  readonly configReloads = new Counter({
    name: 'braid_config_reloads_total',
    help: 'Configuration file reloads, by result (ok, invalid).',
    labelNames: ['result'] as const,
    registers: this.registers,
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'braid_' });
  }

  setSources(sources: MetricSources): void {
    this.sources = sources;
  }

  readonly observeGiveUp = (e: { leftovers: number }): void => {
    this.delGiveUps.inc({ leftovers: e.leftovers ? 'some' : 'none' });
  };

  readonly observeApi: ApiObserver = (verb, resource, ok) => this.apiRequests.inc({ verb, resource, result: ok ? 'ok' : 'error' });

  /** Counts one answered CNI request; `stdout` is the answer (its `code` on failure). */
  observeCni(verb: string, exitCode: number, stdout: string, seconds: number): void {
    let code = 0;
    if (exitCode !== 0) {
      try {
        code = Number((JSON.parse(stdout) as { code?: unknown }).code) || 999;
      } catch {
        code = 999;
      }
    }
    const v = KNOWN_VERBS.has(verb) ? verb : 'invalid';
    this.cniRequests.inc({ verb: v, result: exitCode === 0 ? 'ok' : 'error', code: String(code) });
    this.cniDuration.observe({ verb: v }, seconds);
  }

  /** makePluginExec's observer: CPU per plugin run, where the runner measured it. */
  readonly observeRun = (req: ExecRequest, r: RawRun): void => {
    if (r.cpuMs !== undefined) this.delegateCpu.inc({ plugin: basename(req.pluginPath), command: req.command }, r.cpuMs / 1000);
  };

  /** A PluginExec that records each delegate's run time by plugin type. */
  timeExec(exec: PluginExec): PluginExec {
    return async (req) => {
      const labels = { plugin: basename(req.pluginPath), command: req.command };
      this.delegatesRunning.inc();
      const end = this.delegateDuration.startTimer(labels);
      try {
        const out = await exec(req);
        end({ result: 'ok' });
        return out;
      } catch (e) {
        end({ result: `error_${toCniError(e).code}` });
        throw e;
      } finally {
        this.delegatesRunning.dec();
      }
    };
  }
}

const KNOWN_VERBS = new Set(['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION']);
