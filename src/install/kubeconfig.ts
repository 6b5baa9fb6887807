// The kubeconfig braid reads pods and NADs with: a copy of --kubeconfig, or one built from the
// pod's service account (what Multus's entrypoint does for multus.d/multus.kubeconfig).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverUrl } from '../k8s/credentials.js';

export { SERVICE_ACCOUNT_DIR, serverUrl } from '../k8s/credentials.js';

export interface KubeconfigSource {
  content: string;
  /** Where it came from, for the log ("--kubeconfig /x", "service account /var/run/..."). */
  origin: string;
}

export interface KubeconfigInputs {
  kubeconfigFile?: string | undefined;
  serviceAccountDir: string;
  env: NodeJS.ProcessEnv;
}


export async function inClusterKubeconfig(saDir: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const tokenFile = join(saDir, 'token');
  if (!host || !existsSync(tokenFile)) return undefined;
  const token = readFileSync(tokenFile, 'utf8').trim();
  const caFile = join(saDir, 'ca.crt');
  const nsFile = join(saDir, 'namespace');
  const cluster: Record<string, unknown> = { server: serverUrl(host, env.KUBERNETES_SERVICE_PORT) };
  if (existsSync(caFile)) cluster['certificate-authority-data'] = readFileSync(caFile).toString('base64');
  const context: Record<string, unknown> = { cluster: 'local', user: 'braid' };
  if (existsSync(nsFile)) context.namespace = readFileSync(nsFile, 'utf8').trim();
  // JSON is valid YAML for every kubeconfig reader, and lets braid read it without loading a
  // YAML parser on each CNI call.
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster }],
    users: [{ name: 'braid', user: { token } }],
    contexts: [{ name: 'braid-context', context }],
    'current-context': 'braid-context',
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * --kubeconfig wins (copied byte for byte); else the service account when running in a pod;
 * else none, and braid attaches the cluster network only. The token is inlined because the
 * host cannot see the pod's projected volume; --watch re-reads it, so rotation is picked up.
 */
export async function resolveKubeconfig(inputs: KubeconfigInputs): Promise<KubeconfigSource | undefined> {
  if (inputs.kubeconfigFile) {
    let content: string;
    try {
      content = readFileSync(inputs.kubeconfigFile, 'utf8');
    } catch (e) {
      throw new Error(`failed to read --kubeconfig ${inputs.kubeconfigFile}: ${(e as Error).message}`);
    }
    return { content, origin: `--kubeconfig ${inputs.kubeconfigFile}` };
  }
  const content = await inClusterKubeconfig(inputs.serviceAccountDir, inputs.env);
  return content === undefined ? undefined : { content, origin: `service account ${inputs.serviceAccountDir}` };
}

/**
 * Why `text` is not a kubeconfig braid can use, or undefined when it is: it parses as YAML or
 * JSON, and its current-context names a context whose cluster has a server URL. Checked when
 * braid install starts, so a wrong file fails there and not at the first pod's ADD.
 */
export async function kubeconfigProblem(text: string): Promise<string | undefined> {
  let doc: any;
  try {
    const { parse } = await import('yaml');
    doc = parse(text);
  } catch (e) {
    return `does not parse as YAML: ${(e as Error).message.split('\n')[0]}`;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'not a kubeconfig (not a YAML mapping)';
  const byName = (list: unknown, name: unknown) => (Array.isArray(list) ? list.find((e) => e?.name === name) : undefined);
  const current = doc['current-context'];
  if (typeof current !== 'string' || !current) return 'not a kubeconfig braid can use (no current-context)';
  const context = byName(doc.contexts, current)?.context;
  if (!context) return `current-context ${JSON.stringify(current)} is not in its contexts`;
  const cluster = byName(doc.clusters, context.cluster)?.cluster;
  if (!cluster) return `context ${JSON.stringify(current)} names cluster ${JSON.stringify(context.cluster)}, which is not in its clusters`;
  if (typeof cluster.server !== 'string' || !URL.canParse(cluster.server)) return `cluster ${JSON.stringify(context.cluster)} has no server URL`;
  return undefined;
}
