// CNI_ARGS: "K=V;K2=V2" (SPEC.md "Parameters"; libcni pkg/types/args.go).
import { CniError, Code } from './errors.js';

export type CniArgs = Array<[string, string]>;

export function parseCniArgs(raw: string | undefined): CniArgs {
  if (!raw) return [];
  const out: CniArgs = [];
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new CniError(Code.InvalidEnv, `CNI_ARGS: invalid element ${JSON.stringify(pair)}, expected KEY=VALUE`);
    }
    out.push([pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  return out;
}

export const formatCniArgs = (args: CniArgs) => args.map(([k, v]) => `${k}=${v}`).join(';');

export function cniArg(args: CniArgs, key: string): string | undefined {
  for (const [k, v] of args) if (k === key) return v;
  return undefined;
}

/** The Kubernetes identity containerd and CRI-O put in CNI_ARGS. */
export function podIdentity(args: CniArgs) {
  return {
    namespace: cniArg(args, 'K8S_POD_NAMESPACE'),
    name: cniArg(args, 'K8S_POD_NAME'),
    uid: cniArg(args, 'K8S_POD_UID'),
    infraContainerId: cniArg(args, 'K8S_POD_INFRA_CONTAINER_ID'),
  };
}
