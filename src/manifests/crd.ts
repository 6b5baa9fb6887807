// The NetworkAttachmentDefinition CRD (NPWG v1.3 §2) as the ecosystem has it:
// field for field Multus's (deployments/multus-daemonset.yml), short names `nad` and
// `net-attach-def` and its descriptions included, so applying braid's over Multus's changes
// nothing and `kubectl get nad` keeps working. test/manifests compares the two.
export const NAD_GROUP = 'k8s.cni.cncf.io';
export const NAD_PLURAL = 'network-attachment-definitions';
export const NAD_SHORT_NAMES = ['nad', 'net-attach-def'];

const API_CONVENTIONS = 'https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md';

export function nadCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${NAD_PLURAL}.${NAD_GROUP}` },
    spec: {
      group: NAD_GROUP,
      scope: 'Namespaced',
      names: {
        plural: NAD_PLURAL,
        singular: 'network-attachment-definition',
        kind: 'NetworkAttachmentDefinition',
        shortNames: NAD_SHORT_NAMES,
      },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              description:
                'NetworkAttachmentDefinition is a CRD schema specified by the Network Plumbing Working Group to express the intent for attaching pods to one or more logical or physical networks. More information available at: https://github.com/k8snetworkplumbingwg/multi-net-spec',
              type: 'object',
              properties: {
                apiVersion: {
                  // "represen tation": Multus's text, a line break inside the word folded to a space.
                  description: `APIVersion defines the versioned schema of this represen tation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: ${API_CONVENTIONS}#resources`,
                  type: 'string',
                },
                kind: {
                  description: `Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: ${API_CONVENTIONS}#types-kinds`,
                  type: 'string',
                },
                metadata: { type: 'object' },
                spec: {
                  description: 'NetworkAttachmentDefinition spec defines the desired state of a network attachment',
                  type: 'object',
                  properties: {
                    config: { description: 'NetworkAttachmentDefinition config is a JSON-formatted CNI configuration', type: 'string' },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}
