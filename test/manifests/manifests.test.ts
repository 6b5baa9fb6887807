// `braid manifests`: parses as Kubernetes YAML with exactly the CRD, RBAC and
// DaemonSet expected, the RBAC no wider than braid's API calls, and braid validate is happy.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseBraidConfig } from '../../src/meta/braid-config.js';
import { assertBuilt, BRAID } from '../helpers/braid-runner.js';

type Obj = Record<string, any>;

function manifests(args: string[] = []): { status: number; stdout: string; stderr: string; docs: Obj[] } {
  const r = spawnSync(BRAID, ['manifests', ...args], { encoding: 'utf8' });
  let docs: Obj[] = [];
  if (r.status === 0) {
    const parsed = parseAllDocuments(r.stdout);
    for (const d of parsed) expect(d.errors, String(d.errors[0])).toEqual([]);
    docs = parsed.map((d) => d.toJS() as Obj).filter(Boolean);
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, docs };
}

const byKind = (docs: Obj[], kind: string) => docs.filter((d) => d.kind === kind);
const one = (docs: Obj[], kind: string) => {
  const found = byKind(docs, kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};

beforeAll(() => assertBuilt());

/** The rows of the README's RBAC table: resource, verbs, and when they are granted. */
function readmeRbacRows(): Array<{ resource: string; verbs: string[]; granted: string }> {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.split(/^### RBAC\b.*$/m)[1]!.split(/^#/m)[0]!;
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  const cells = (l: string) => l.split('|').slice(1, -1).map((c) => c.trim());
  const header = cells(lines[0]!);
  expect(header.slice(0, 3)).toEqual(['resource', 'verbs', 'granted']);
  const rows = lines.slice(2).map((l) => {
    const [resource, verbs, granted] = cells(l);
    const unquote = (c: string) => c.replace(/`/g, '');
    return { resource: unquote(resource!), verbs: verbs!.split(',').map((v) => unquote(v.trim())), granted: unquote(granted!) };
  });
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) expect(['always', 'daemon']).toContain(r.granted);
  return rows;
}

describe('braid manifests', () => {
  it('prints the CRD, ServiceAccount, ClusterRole, ClusterRoleBinding, the daemon ConfigMap and DaemonSet, nothing else', () => {
    const { status, docs, stdout } = manifests();
    expect(status).toBe(0);
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual([
      'apiextensions.k8s.io/v1 CustomResourceDefinition',
      'v1 ServiceAccount',
      'rbac.authorization.k8s.io/v1 ClusterRole',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
      'v1 ConfigMap',
      'apps/v1 DaemonSet',
    ]);
    expect(byKind(manifests(['--one-shot']).docs, 'ConfigMap')).toEqual([]);
    expect(stdout).not.toMatch(/[&*]a\d/); // no YAML anchors: plain for kubectl and humans
  });

  it("defines the NetworkAttachmentDefinition CRD exactly as Multus's deployment files do", () => {
    const crd = one(manifests().docs, 'CustomResourceDefinition');
    // Multus's own YAML text (source recorded in the fixture): applying one over the other
    // changes nothing, short names, descriptions and schema included.
    const multus = parseAllDocuments(readFileSync(join(import.meta.dirname, '../fixtures/multus/nad-crd.yml'), 'utf8'))[0]!.toJS();
    expect(crd).toEqual(multus);
    expect(crd.spec.names.shortNames).toEqual(['nad', 'net-attach-def']);
  });

  it('--one-shot grants exactly the rights one-shot braid uses, bound to its ServiceAccount', () => {
    const { docs } = manifests(['--one-shot']);
    expect(one(docs, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
      { apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'], verbs: ['get'] },
    ]);
    const sa = one(docs, 'ServiceAccount');
    const binding = one(docs, 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: one(docs, 'ClusterRole').metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'kube-system' }]);
  });

  it('--one-shot runs braid install --watch --cleanup-on-exit on every node with the CNI host paths', () => {
    const { docs } = manifests(['--one-shot']);
    const ds = one(docs, 'DaemonSet');
    expect(ds.metadata.namespace).toBe('kube-system');
    const pod = ds.spec.template.spec;
    expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
    expect(pod.serviceAccountName).toBe(one(docs, 'ServiceAccount').metadata.name);
    expect(pod.hostNetwork).toBe(true);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.command.slice(0, 4)).toEqual(['braid', 'install', '--watch', '--cleanup-on-exit']);
    expect(c.image).toMatch(/braid:v\d+\.\d+\.\d+/);
    expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    const hostPaths = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v.hostPath?.path]));
    expect(Object.values(hostPaths).sort()).toEqual(['/etc/cni/net.d', '/opt/cni/bin', '/var/lib/cni']);
    // mounted at the same paths, so the paths written into 00-braid.conflist are the host's
    for (const m of c.volumeMounts) expect(m.mountPath).toBe(hostPaths[m.name]);
  });

  it('--namespace and --image', () => {
    const { docs } = manifests(['--namespace', 'braid-system', '--image', 'registry.example/braid:dev']);
    expect(one(docs, 'DaemonSet').metadata.namespace).toBe('braid-system');
    expect(one(docs, 'ServiceAccount').metadata.namespace).toBe('braid-system');
    expect(one(docs, 'ClusterRoleBinding').subjects[0].namespace).toBe('braid-system');
    expect(one(docs, 'DaemonSet').spec.template.spec.containers[0].image).toBe('registry.example/braid:dev');
    // The namespace is created first, so one `kubectl apply` works on a fresh cluster.
    expect(docs[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'braid-system' } });
    expect(byKind(manifests().docs, 'Namespace')).toEqual([]);
  });

  it('--node-selector puts braid only on labelled nodes (a staged migration)', () => {
    const { docs } = manifests(['--node-selector', 'braid.dev/enabled=true,kubernetes.io/os=linux']);
    expect(one(docs, 'DaemonSet').spec.template.spec.nodeSelector).toEqual({ 'braid.dev/enabled': 'true', 'kubernetes.io/os': 'linux' });
    expect(one(manifests().docs, 'DaemonSet').spec.template.spec.nodeSelector).toBeUndefined();
    for (const bad of ['nolabel', 'a b=c', 'k=v v', '=v', `k=${'x'.repeat(64)}`]) {
      const r = manifests(['--node-selector', bad]);
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toContain('not KEY=VALUE with a Kubernetes label key and value');
    }
  });

  it('daemon mode (the default, or --daemon) adds the daemon container, its config, socket dir and metrics port', () => {
    const { docs, stdout } = manifests();
    expect(manifests(['--daemon']).stdout).toBe(stdout);
    const cm = one(docs, 'ConfigMap');
    const pod = one(docs, 'DaemonSet').spec.template.spec;
    expect(pod.containers.map((c: Obj) => c.name)).toEqual(['install', 'daemon']);
    const [install, daemon] = pod.containers;
    expect(install.command).toContain('--daemon');
    expect(daemon.command).toEqual(['braid', 'daemon', '--config', '/etc/cni/braid/daemon.json', '--metrics-address', '0.0.0.0:9091']);
    expect(daemon.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 9091 });
    expect(daemon.ports).toEqual([{ name: 'metrics', containerPort: 9091, protocol: 'TCP' }]);
    expect(pod.volumes.find((v: Obj) => v.hostPath?.path === '/run/braid')).toBeDefined();
    expect(daemon.volumeMounts.find((m: Obj) => m.mountPath === '/run/braid')).toBeDefined();
    const cfgVolume = pod.volumes.find((v: Obj) => v.configMap);
    expect(cfgVolume.configMap.name).toBe(cm.metadata.name);
    // the daemon config is braid's usual config
    const { config, warnings } = parseBraidConfig(JSON.parse(cm.data['daemon.json']));
    expect(warnings).toEqual([]);
    expect(config.daemonSocket).toBe('/run/braid/braid.sock');
    expect(config.clusterNetwork).toBe('/etc/cni/net.d');
    // the daemon's informers list and watch pods and NADs; nothing else is added
    expect(one(docs, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
      { apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it.each([[[]], [['--one-shot']]])("the README's RBAC table lists exactly the rights granted (%j)", (args) => {
    const granted = one(manifests(args).docs, 'ClusterRole').rules.flatMap((r: Obj) =>
      r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${r.apiGroups.join(',')}/${res} ${v}`)),
    );
    const groupOf = (resource: string) => (resource.startsWith('network-attachment-definitions') ? 'k8s.cni.cncf.io' : '');
    const documented = readmeRbacRows()
      .filter((row) => row.granted === 'always' || row.granted === (args.includes('--one-shot') ? 'one-shot' : 'daemon'))
      .flatMap((row) => row.verbs.map((v) => `${groupOf(row.resource)}/${row.resource} ${v}`));
    expect([...documented].sort()).toEqual([...granted].sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it.each([[[]], [['--one-shot']]])('round-trips through braid validate (%j)', (args) => {
    const { stdout } = manifests(args);
    const v = spawnSync(BRAID, ['validate', '--strict', '-'], { input: stdout, encoding: 'utf8' });
    expect(v.status, v.stdout + v.stderr).toBe(0);
  });

  it.each([
    [['--namespace', 'Not_A_Label'], /--namespace: "Not_A_Label": not a DNS-1123 label/],
    [['--image', ''], /--image: "": not an image reference/],
    [['--cni-bin-dir', 'opt/cni/bin'], /--cni-bin-dir: "opt\/cni\/bin": not an absolute host path/],
    [['--frobnicate'], /^braid manifests: unknown option --frobnicate$/m],
    [['-n', 'x'], /^braid manifests: unknown option -n$/m],
    [['--one-shot', '--daemon'], /--one-shot and --daemon exclude each other/],
  ])('usage error %j exits 2', (args, msg) => {
    const r = manifests(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(msg);
  });
});
