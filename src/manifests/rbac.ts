// braid's identity and exactly the rights its API calls need (src/k8s/kube-api.ts): read a pod,
// merge-patch its status (the network-status annotation), read a NAD. The daemon's informers
// (src/daemon/informer-cache.ts) also list and watch its node's pods and every NAD.
import { NAD_GROUP, NAD_PLURAL } from './crd.js';

export const NAME = 'braid';
const labels = { 'app.kubernetes.io/name': NAME };

export const clusterRoleRules = (daemon: boolean) => [
  { apiGroups: [''], resources: ['pods'], verbs: daemon ? ['get', 'list', 'watch'] : ['get'] },
  { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
  { apiGroups: [NAD_GROUP], resources: [NAD_PLURAL], verbs: daemon ? ['get', 'list', 'watch'] : ['get'] },
];

export const serviceAccount = (namespace: string) => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: NAME, namespace, labels },
});

export const clusterRole = (daemon: boolean) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: NAME, labels },
  rules: clusterRoleRules(daemon),
});

export const clusterRoleBinding = (namespace: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: NAME, labels },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
  subjects: [{ kind: 'ServiceAccount', name: NAME, namespace }],
});
