// A minimal CRI client: kubelet's side of the conversation with a container runtime over its
// gRPC socket (runtime.v1). Fields keep the proto's snake_case names; enums arrive as names
// ("SANDBOX_READY"), 64-bit integers as strings. Every call carries a deadline, as kubelet's do.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { RUNTIME_V1_PROTO } from './runtime-v1-proto.js';

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  log_directory?: string;
  port_mappings?: Array<{ protocol?: 'TCP' | 'UDP' | 'SCTP'; container_port: number; host_port: number; host_ip?: string }>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: Record<string, unknown>;
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  created_at: string;
  network: { ip: string; additional_ips: Array<{ ip: string }> } | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus;
  /** Verbose only: JSON strings; containerd puts its sandbox record under "info". */
  info: Record<string, string>;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxStatus['state'];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A failed CRI call: the gRPC status code and the runtime's message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`CRI ${method} failed (${grpc.status[code] ?? code}): ${details}`);
  }
}

let services: { runtime: grpc.ServiceClientConstructor; image: grpc.ServiceClientConstructor } | undefined;

function loadServices() {
  if (services) return services;
  const root = protobuf.parse(RUNTIME_V1_PROTO, { keepCase: true }).root;
  const def = fromJSON(root.toJSON(), { keepCase: true, longs: String, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } };
  services = { runtime: pkg.runtime.v1.RuntimeService!, image: pkg.runtime.v1.ImageService! };
  return services;
}

export const DEFAULT_CRI_TIMEOUT_MS = 120_000;

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;

  /** socket: the runtime's gRPC unix socket path (containerd's grpc.address). */
  constructor(
    readonly socket: string,
    private readonly timeoutMs = DEFAULT_CRI_TIMEOUT_MS,
  ) {
    const s = loadServices();
    const target = `unix://${socket}`;
    // A restarted runtime must be reachable again at once, not after grpc's reconnect backoff.
    const opts = { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 };
    this.runtime = new s.runtime(target, grpc.credentials.createInsecure(), opts);
    this.image = new s.image(target, grpc.credentials.createInsecure(), opts);
  }

  /** Any RuntimeService RPC of the subset; timeoutMs overrides the client's deadline. */
  call<T = any>(method: string, request: object, timeoutMs = this.timeoutMs, client = this.runtime): Promise<T> {
    const fn = (client as unknown as Record<string, Function>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`CRI method ${method} is not in braid's runtime.v1 subset`));
    return new Promise((resolve, reject) => {
      fn.call(client, request, { deadline: new Date(Date.now() + timeoutMs) }, (err: grpc.ServiceError | null, res: T) => {
        if (err) reject(new CriError(method, err.code, err.details || err.message));
        else resolve(res);
      });
    });
  }

  version() {
    return this.call<{ version: string; runtime_name: string; runtime_version: string; runtime_api_version: string }>('Version', { version: 'v1' });
  }

  async runPodSandbox(config: PodSandboxConfig, timeoutMs?: number): Promise<string> {
    const r = await this.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config }, timeoutMs);
    return r.pod_sandbox_id;
  }

  stopPodSandbox(id: string, timeoutMs?: number): Promise<void> {
    return this.call('StopPodSandbox', { pod_sandbox_id: id }, timeoutMs);
  }

  removePodSandbox(id: string, timeoutMs?: number): Promise<void> {
    return this.call('RemovePodSandbox', { pod_sandbox_id: id }, timeoutMs);
  }

  podSandboxStatus(id: string, verbose = false): Promise<PodSandboxStatusResponse> {
    return this.call('PodSandboxStatus', { pod_sandbox_id: id, verbose });
  }

  async listPodSandbox(labelSelector: Record<string, string> = {}): Promise<PodSandbox[]> {
    const r = await this.call<{ items: PodSandbox[] }>('ListPodSandbox', { filter: { label_selector: labelSelector } });
    return r.items;
  }

  async listImages(): Promise<Array<{ id: string; repo_tags: string[] }>> {
    const r = await this.call<{ images: Array<{ id: string; repo_tags: string[] }> }>('ListImages', {}, undefined, this.image);
    return r.images;
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }
}

/** containerd's verbose sandbox info: the netns path and the CNI result it stored. */
export function sandboxInfo(res: PodSandboxStatusResponse): { netnsPath?: string; cniResult?: any; pid?: number } {
  const raw = res.info?.info;
  if (!raw) return {};
  const info = JSON.parse(raw) as { runtimeSpec?: { linux?: { namespaces?: Array<{ type: string; path?: string }> } }; cniResult?: unknown; pid?: number };
  const netnsPath = info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  return { netnsPath, cniResult: info.cniResult, pid: info.pid };
}
