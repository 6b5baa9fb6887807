// The kubelet's PodResources API (k8s.io/kubelet pkg/apis/podresources/v1/api.proto): which
// device-plugin devices the kubelet gave a pod, the way Multus finds an SR-IOV VF for a NAD
// annotated k8s.v1.cni.cncf.io/resourceName. A subset of the real package, service, messages and
// field numbers, embedded as text so dist/braid needs no .proto file; unknown fields a newer
// kubelet sends (cpu_ids, memory, topology, ...) are skipped by protobuf.
import { CniError, Code } from '../cni/errors.js';

export const DEFAULT_POD_RESOURCES_SOCKET = '/var/lib/kubelet/pod-resources/kubelet.sock';

export const POD_RESOURCES_PROTO = `
syntax = "proto3";
package v1;

service PodResourcesLister {
  rpc List(ListPodResourcesRequest) returns (ListPodResourcesResponse) {}
  rpc Get(GetPodResourcesRequest) returns (GetPodResourcesResponse) {}
}

message ListPodResourcesRequest {}
message ListPodResourcesResponse { repeated PodResources pod_resources = 1; }
message PodResources {
  string name = 1;
  string namespace = 2;
  repeated ContainerResources containers = 3;
}
message ContainerResources {
  string name = 1;
  repeated ContainerDevices devices = 2;
}
message ContainerDevices {
  string resource_name = 1;
  repeated string device_ids = 2;
}
message GetPodResourcesRequest {
  string pod_name = 1;
  string pod_namespace = 2;
}
message GetPodResourcesResponse { PodResources pod_resources = 1; }
`;

export interface PodResources {
  name: string;
  namespace: string;
  containers: Array<{ name: string; devices: Array<{ resource_name: string; device_ids: string[] }> }>;
}

/** resource name -> the pod's device IDs of it, in the kubelet's order (containers, then devices). */
export function devicesByResource(pod: PodResources | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of pod?.containers ?? []) {
    for (const d of c.devices ?? []) out.set(d.resource_name, [...(out.get(d.resource_name) ?? []), ...(d.device_ids ?? [])]);
  }
  return out;
}

/**
 * The devices the kubelet allocated to one pod, from List (every kubelet since 1.20 serves it;
 * Get needed a feature gate until 1.34). A kubelet that cannot be asked fails the ADD: the
 * delegate would otherwise run without the device it needs.
 */
export async function podDevices(socket: string, namespace: string, name: string, timeoutMs: number): Promise<Map<string, string[]>> {
  const grpc = await import('@grpc/grpc-js');
  const { fromJSON } = await import('@grpc/proto-loader');
  const { default: protobuf } = await import('protobufjs');
  const root = protobuf.parse(POD_RESOURCES_PROTO, { keepCase: true }).root;
  const pkg = grpc.loadPackageDefinition(fromJSON(root.toJSON(), { keepCase: true, defaults: true, arrays: true })) as unknown as {
    v1: { PodResourcesLister: new (target: string, creds: unknown) => { List: Function; close(): void } };
  };
  const client = new pkg.v1.PodResourcesLister(`unix://${socket}`, grpc.credentials.createInsecure());
  try {
    const answer = await new Promise<{ pod_resources: PodResources[] }>((resolve, reject) => {
      client.List({}, { deadline: Date.now() + timeoutMs }, (err: Error | null, res: { pod_resources: PodResources[] }) => (err ? reject(err) : resolve(res)));
    });
    return devicesByResource(answer.pod_resources.find((p) => p.namespace === namespace && p.name === name));
  } catch (e) {
    throw new CniError(Code.TryAgainLater, `kubelet PodResources List on ${socket} failed: ${(e as Error).message}`);
  } finally {
    client.close();
  }
}
