// A stand-in for the kubelet's PodResources gRPC service on a unix socket (package v1, service
// PodResourcesLister, List and Get, the kubelet's field numbers), answering from a list of pods
// the test sets. It counts calls so a test can see braid asked.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { POD_RESOURCES_PROTO, type PodResources } from '../../src/k8s/pod-resources.js';

export interface PodResourcesServer {
  socket: string;
  pods: PodResources[];
  calls: string[];
  close(): Promise<void>;
}

export async function startPodResourcesServer(socket: string, pods: PodResources[]): Promise<PodResourcesServer> {
  const root = protobuf.parse(POD_RESOURCES_PROTO, { keepCase: true }).root;
  const pkg = grpc.loadPackageDefinition(fromJSON(root.toJSON(), { keepCase: true, defaults: true })) as unknown as {
    v1: { PodResourcesLister: { service: grpc.ServiceDefinition } };
  };
  const state: PodResourcesServer = { socket, pods, calls: [], close: async () => undefined };
  const server = new grpc.Server();
  server.addService(pkg.v1.PodResourcesLister.service, {
    List: (_call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) => {
      state.calls.push('List');
      done(null, { pod_resources: state.pods });
    },
    Get: (call: grpc.ServerUnaryCall<{ pod_name: string; pod_namespace: string }, unknown>, done: grpc.sendUnaryData<unknown>) => {
      state.calls.push('Get');
      const pod = state.pods.find((p) => p.name === call.request.pod_name && p.namespace === call.request.pod_namespace);
      if (!pod) done({ code: grpc.status.NOT_FOUND, details: `pod ${call.request.pod_namespace}/${call.request.pod_name} not found` });
      else done(null, { pod_resources: pod });
    },
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  state.close = () => new Promise((resolve) => server.tryShutdown(() => resolve()));
  return state;
}
