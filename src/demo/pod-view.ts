// What a person wants to see of a pod after ADD: its interfaces (ip -n), the merged CNI result,
// the runtime's port mapping at work, the network-status annotation; then a ping between pods.
import { PREFIX, nsAddrs, run } from './host.js';
import { prettyJson, type Report } from './report.js';

type Json = Record<string, any>;
export const NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';

export interface PodView {
  namespace: string;
  name: string;
  result: Json;
  status: Json[];
  portMappings: Json[];
}

const netnsOf = (pod: { name: string }) => `${PREFIX}${pod.name}`;

/** Prints the pod; false when something it shows is missing (portmap's rule). */
export function showPod(r: Report, pod: PodView, verbose: boolean): boolean {
  let ok = true;
  const ns = netnsOf(pod);
  const networkOf = new Map(pod.status.map((s) => [String(s.interface), String(s.name)]));
  r.heading(`interfaces: ip -n ${ns} addr`);
  r.table(
    ['IFACE', 'MAC', 'MTU', 'ADDRESSES', 'NETWORK'],
    nsAddrs(ns)
      .filter((l) => l.ifname !== 'lo')
      .map((l) => [
        l.ifname,
        l.address ?? '',
        String(l.mtu ?? ''),
        l.addr_info.filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`).join(' '),
        networkOf.get(l.ifname) ?? '',
      ]),
  );

  const { result } = pod;
  const ips = (result.ips ?? []) as Json[];
  r.heading(`CNI result braid returned to the runtime (cniVersion ${result.cniVersion}, all networks merged)`);
  r.table(
    ['#', 'INTERFACE', 'WHERE', 'MAC', 'IPS'],
    ((result.interfaces ?? []) as Json[]).map((iface, i) => [
      String(i),
      String(iface.name),
      iface.sandbox ? 'pod' : 'host',
      String(iface.mac ?? ''),
      ips
        .filter((ip) => ip.interface === i)
        .map((ip) => `${ip.address}${ip.gateway ? ` gw ${ip.gateway}` : ''}`)
        .join(' '),
    ]),
  );
  const routes = ((result.routes ?? []) as Json[]).map((rt) => `${rt.dst}${rt.gw ? ` via ${rt.gw}` : ''}`);
  if (routes.length) r.line(`routes: ${routes.join(', ')}`);
  if (verbose) {
    r.line('as JSON:');
    r.block(prettyJson(result));
  }

  for (const pm of pod.portMappings) {
    // portmap's DNAT rule: the runtime's capability argument reached the cluster network.
    const nat = run('iptables-save', ['-t', 'nat'], { allowFail: true }).stdout;
    if (nat.split('\n').some((l) => new RegExp(`--dports? ${pm.hostPort}\\b.*-j CNI-DN-`).test(l))) {
      r.ok(`host port ${pm.hostPort} → ${pm.containerPort}: portmap’s DNAT rule is in place (the runtime’s portMappings reached the cluster network)`);
    } else {
      ok = false;
      r.bad(`host port ${pm.hostPort}: no DNAT rule from portmap`);
    }
  }
  r.heading(`annotation ${NETWORK_STATUS}`);
  r.block(prettyJson(pod.status));
  return ok;
}

/** One ping per secondary network `to` is on, from `from`'s interface on it; false on a miss. */
export function pingSecondaries(r: Report, from: PodView, to: PodView): boolean {
  let ok = true;
  for (const target of to.status) {
    if (target.default) continue;
    const via = from.status.find((s) => s.name === target.name);
    const ip = (target.ips as string[] | undefined)?.[0];
    if (!via || !ip) continue;
    const label = `${from.name} ${via.interface} → ${to.name} ${target.interface} ${ip}  (${target.name})`;
    const res = run('ip', ['netns', 'exec', netnsOf(from), 'ping', '-c', '1', '-W', '2', ip], { allowFail: true });
    if (res.status === 0) r.ok(`${label}: ${/time=([\d.]+ ms)/.exec(res.stdout)?.[1] ?? 'reply'}`);
    else {
      ok = false;
      r.bad(`${label}: no reply`);
    }
  }
  return ok;
}
