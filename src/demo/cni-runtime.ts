// The demo's container runtime: libcni running the node's first config (00-braid.conflist) with
// braid's libcni-equivalent Engine, so braid is executed from the bin dir through the CNI
// protocol (env + stdin) exactly as containerd or CRI-O would execute it.
import type { CniArgs } from '../cni/cni-args.js';
import type { NetConfList } from '../cni/config.js';
import { toVersion } from '../cni/result.js';
import { readConfigFile } from '../engine/conf-files.js';
import { Engine, type RuntimeConf } from '../engine/engine.js';

export interface Sandbox {
  namespace: string;
  name: string;
  uid: string;
  containerId: string;
  netnsPath: string;
  /** What the kubelet asks the runtime for, e.g. hostPort mappings. */
  capabilityArgs: Record<string, unknown>;
}

export class CniRuntime {
  readonly list: NetConfList;
  private readonly engine: Engine;

  constructor(
    readonly entryFile: string,
    readonly cniPath: string[],
    cacheDir: string,
  ) {
    this.list = readConfigFile(entryFile);
    this.engine = new Engine({ path: cniPath, cacheDir });
  }

  private rt(s: Sandbox): RuntimeConf {
    // What containerd's CRI puts in CNI_ARGS.
    const args: CniArgs = [
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAMESPACE', s.namespace],
      ['K8S_POD_NAME', s.name],
      ['K8S_POD_INFRA_CONTAINER_ID', s.containerId],
      ['K8S_POD_UID', s.uid],
    ];
    return { containerId: s.containerId, netns: s.netnsPath, ifname: 'eth0', args, capabilityArgs: s.capabilityArgs };
  }

  /** The result as the runtime receives it, in the list's cniVersion. */
  async add(s: Sandbox): Promise<Record<string, unknown>> {
    return toVersion(await this.engine.addList(this.list, this.rt(s)), this.list.cniVersion);
  }

  async del(s: Sandbox): Promise<void> {
    await this.engine.delList(this.list, this.rt(s));
  }
}
