// `braid manifests`: ready-to-apply YAML built as objects and serialised once.
import { isAbsolute } from 'node:path';
import { parseFlags, UsageError } from '../cli/flags.js';
import { nadCrd } from './crd.js';
import { daemonConfigMap, daemonSet, type DaemonSetOptions } from './daemonset.js';
import { clusterRole, clusterRoleBinding, serviceAccount } from './rbac.js';

declare const BRAID_VERSION: string;
const VERSION = typeof BRAID_VERSION === 'string' ? BRAID_VERSION : '0.0.0-dev';
export const DEFAULT_IMAGE = `ghcr.io/braid-cni/braid:v${VERSION}`;

export const MANIFESTS_HELP = `braid manifests: print the Kubernetes YAML that deploys braid

Usage:
  braid manifests [options] | kubectl apply -f -

Prints, as one multi-document YAML stream: the NetworkAttachmentDefinition CRD, a
ServiceAccount, a ClusterRole and its ClusterRoleBinding, the braid daemon's ConfigMap, and a
DaemonSet with two containers on every node: 'braid install --watch --cleanup-on-exit'
(copies braid-shim onto the host and writes its entry into the CNI conf dir) and
'braid daemon' (serves the shim over /run/braid/braid.sock). The host needs no Node.js:
Node.js runs in the image. Host paths are mounted at the same paths: the CNI conf dir, the
CNI bin dir, /var/lib/cni, /run/braid, /etc/cni/braid/net.d and /run/netns.

Options:
  --namespace NS       namespace of the ServiceAccount and DaemonSet (default kube-system);
                       given explicitly, a Namespace object for it comes first
  --node-selector K=V[,K=V...]
                       run braid only on nodes with these labels (a staged migration:
                       label nodes one by one; see the README's Multus migration)
  --if-multus MODE     passed to braid install: takeover (default) or wait (no braid entry
                       while Multus's is on the node)
  --image IMAGE        braid's container image (default ${DEFAULT_IMAGE}); build it
                       with 'npm run image' and push it to your registry (see the README)
  --cni-conf-dir DIR   the nodes' CNI config dir (default /etc/cni/net.d)
  --cni-bin-dir DIR    the nodes' CNI plugin dir (default /opt/cni/bin)
  --one-shot           no daemon: the installer copies braid itself onto the host, and the
                       runtime runs it per CNI call; needs Node.js 20+ on every node. Its
                       ClusterRole has no list or watch
  --daemon             daemon mode, the default (kept so older command lines still work)
  -h, --help           this help
`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function parse(argv: string[]): DaemonSetOptions & { help: boolean } {
  const values = parseFlags(argv, {
      namespace: { type: 'string' },
      'node-selector': { type: 'string' },
      'if-multus': { type: 'string', default: 'takeover' },
      image: { type: 'string', default: DEFAULT_IMAGE },
      'cni-conf-dir': { type: 'string', default: '/etc/cni/net.d' },
      'cni-bin-dir': { type: 'string', default: '/opt/cni/bin' },
      daemon: { type: 'boolean', default: false },
      'one-shot': { type: 'boolean', default: false },
    });
  if (values.daemon && values['one-shot']) throw new UsageError('--one-shot and --daemon exclude each other');
  const namespace = (values.namespace as string | undefined) ?? 'kube-system';
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) throw new UsageError(`--namespace: ${JSON.stringify(namespace)}: not a DNS-1123 label`);
  const image = values.image as string;
  if (image === '' || /\s/.test(image)) throw new UsageError(`--image: ${JSON.stringify(image)}: not an image reference`);
  for (const flag of ['cni-conf-dir', 'cni-bin-dir']) {
    if (!isAbsolute(values[flag] as string)) throw new UsageError(`--${flag}: ${JSON.stringify(values[flag])}: not an absolute host path`);
  }
  return {
    namespace,
    createNamespace: values.namespace !== undefined,
    ifMultus: parseIfMultus(values['if-multus'] as string),
    ...(values['node-selector'] !== undefined ? { nodeSelector: parseNodeSelector(values['node-selector'] as string) } : {}),
    image,
    confDir: values['cni-conf-dir'] as string,
    binDir: values['cni-bin-dir'] as string,
    daemon: values['one-shot'] !== true,
    help: values.help === true,
  };
}

// Label keys and values as Kubernetes validates them: an optional DNS-subdomain prefix and '/',
// a name of at most 63 characters; values at most 63, possibly empty.
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseIfMultus(v: string): 'takeover' | 'wait' {
  if (v !== 'takeover' && v !== 'wait') throw new UsageError(`--if-multus: ${JSON.stringify(v)}: not takeover or wait`);
  return v;
}

function parseNodeSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    const [key, value] = eq < 0 ? [pair, undefined] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const slash = key.lastIndexOf('/');
    const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
    const keyOk = name !== '' && name.length <= 63 && LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
    if (value === undefined || !keyOk || value.length > 63 || !LABEL_NAME.test(value)) {
      throw new UsageError(`--node-selector: ${JSON.stringify(pair)}: not KEY=VALUE with a Kubernetes label key and value`);
    }
    out[key] = value;
  }
  return out;
}

export function manifestObjects(o: DaemonSetOptions): Array<Record<string, unknown>> {
  return [
    ...(o.createNamespace ? [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace } }] : []),
    nadCrd(),
    serviceAccount(o.namespace),
    clusterRole(o.daemon),
    clusterRoleBinding(o.namespace),
    ...(o.daemon ? [daemonConfigMap(o)] : []),
    daemonSet(o),
  ];
}

export async function renderManifests(o: DaemonSetOptions): Promise<string> {
  const { stringify } = await import('yaml');
  const header = `# braid ${VERSION}: generated by 'braid manifests${o.daemon ? '' : ' --one-shot'}'\n`;
  return header + manifestObjects(o).map((obj) => `---\n${stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}

export async function manifestsMain(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (o.help) {
    process.stdout.write(MANIFESTS_HELP);
    return 0;
  }
  process.stdout.write(await renderManifests(o));
  return 0;
}
