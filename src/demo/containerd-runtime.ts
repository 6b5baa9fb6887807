// The demo's container runtime when containerd is installed: a private containerd whose CRI
// plugin loads the node's first CNI config (the 00-braid.conflist `braid install` wrote) and
// runs braid from the bin dir. The demo talks to it as kubelet does: RunPodSandbox with the
// pod's metadata, annotations and hostPorts; StopPodSandbox + RemovePodSandbox to delete.
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient, sandboxInfo } from '../cri/cri-client.js';
import { LIBCNI_RESULTS, PrivateContainerd, containerdMissing, libcniCacheFiles } from '../cri/private-containerd.js';
import { ENTRY_NAME } from '../install/braid-entry.js';
import { run } from './host.js';
import type { Sandbox } from './cni-runtime.js';

/** Why the demo can't use containerd here, or undefined when it can. */
export function containerdUnavailable(): string | undefined {
  const missing = containerdMissing();
  if (missing) return missing;
  // The sandbox (pause) image is compiled here: no registry to pull it from.
  if (run('sh', ['-c', 'command -v gcc'], { allowFail: true }).status !== 0) return 'gcc is not installed (it builds the pause image)';
  return undefined;
}

export class ContainerdRuntime {
  readonly ctd: PrivateContainerd;
  private cri: CriClient | undefined;
  private readonly pods = new Map<Sandbox, string>();

  constructor(
    dir: string,
    readonly confDir: string,
    readonly binDir: string,
  ) {
    this.ctd = new PrivateContainerd({ dir, cniConfDir: confDir, cniBinDir: binDir });
  }

  /** containerd's CRI plugin takes a single bin dir: the reference plugins go beside braid. */
  linkPlugins(pluginDir: string): void {
    for (const f of readdirSync(pluginDir)) symlinkSync(join(pluginDir, f), join(this.binDir, f));
  }

  async start(): Promise<string> {
    await this.ctd.start();
    this.ctd.importPauseImage();
    this.cri = new CriClient(this.ctd.socket, 60_000);
    const v = await this.cri.version();
    return `${v.runtime_name} ${v.runtime_version} (CRI ${v.runtime_api_version})`;
  }

  /**
   * RunPodSandbox; the sandbox's netns gets the name `netnsName` too (ip netns attach) so it can
   * be inspected with ip -n. Returns the result braid gave containerd, from libcni's cache (the exact bytes braid printed).
   */
  async add(s: Sandbox, annotations: Record<string, string>, netnsName: string): Promise<Record<string, unknown>> {
    const portMappings = (s.capabilityArgs.portMappings ?? []) as Array<{ hostPort: number; containerPort: number; protocol?: string }>;
    const id = await this.cri!.runPodSandbox({
      metadata: { name: s.name, namespace: s.namespace, uid: s.uid, attempt: 0 },
      hostname: s.name,
      annotations,
      port_mappings: portMappings.map((p) => ({ protocol: (p.protocol ?? 'tcp').toUpperCase() as 'TCP', container_port: p.containerPort, host_port: p.hostPort })),
      linux: {},
    });
    this.pods.set(s, id);
    s.containerId = id;
    const info = sandboxInfo(await this.cri!.podSandboxStatus(id, true));
    s.netnsPath = info.netnsPath ?? '';
    if (info.pid) run('ip', ['netns', 'attach', netnsName, String(info.pid)]);
    const cached = JSON.parse(readFileSync(join(LIBCNI_RESULTS, `${ENTRY_NAME}-${id}-eth0`), 'utf8')) as { result?: Record<string, unknown> };
    return cached.result ?? {};
  }

  /** The pod IP containerd reports in PodSandboxStatus. */
  async podIp(s: Sandbox): Promise<string> {
    const id = this.pods.get(s);
    return id ? ((await this.cri!.podSandboxStatus(id)).status.network?.ip ?? '') : '';
  }

  /** kubelet's delete: StopPodSandbox (CNI DEL), then RemovePodSandbox (DEL again). */
  async del(s: Sandbox): Promise<void> {
    const id = this.pods.get(s);
    if (!id) return;
    await this.cri!.stopPodSandbox(id);
    await this.cri!.removePodSandbox(id);
    this.pods.delete(s);
  }

  /** libcni cache files containerd still keeps for these sandboxes. */
  cacheRecords(ids: string[]): string[] {
    return libcniCacheFiles(ids);
  }

  /** kubelet's delete for every sandbox containerd knows (starting or adopting containerd). */
  async removeAll(): Promise<number> {
    await this.ctd.start();
    this.cri ??= new CriClient(this.ctd.socket, 60_000);
    const sandboxes = await this.cri.listPodSandbox();
    for (const sb of sandboxes) {
      await this.cri.stopPodSandbox(sb.id);
      await this.cri.removePodSandbox(sb.id);
    }
    return sandboxes.length;
  }

  async destroy(): Promise<void> {
    this.cri?.close();
    await this.ctd.destroy();
  }
}

/**
 * What a killed demo's containerd left in its work dir: its pods are deleted through
 * containerd, so braid's DEL removes their addresses and rules; then containerd and its mounts
 * go. False when the dir holds no containerd. Call only while holding the demo lock.
 */
export async function removeStaleContainerd(workDir: string): Promise<boolean> {
  if (!existsSync(join(workDir, 'containerd', 'config.toml'))) return false;
  const rt = new ContainerdRuntime(join(workDir, 'containerd'), join(workDir, 'net.d'), join(workDir, 'bin'));
  try {
    await rt.removeAll();
  } catch {
    // containerd can't come up there any more: its mounts and processes still go below
  } finally {
    await rt.destroy();
  }
  return true;
}
