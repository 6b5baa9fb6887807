// The NetworkAttachmentDefinition CRD (NPWG v1.3 §2; SPEC-CHECKLIST 6): namespaced, group
// k8s.cni.cncf.io, v1 served and stored, spec.config a string holding a conf or conflist.
export const NAD_GROUP = 'k8s.cni.cncf.io';
export const NAD_PLURAL = 'network-attachment-definitions';

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
        shortNames: ['net-attach-def'],
      },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              description: 'NetworkAttachmentDefinition is a CRD schema specified by the Network Plumbing Working Group to express the intent for attaching pods to one or more logical or physical networks.',
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  description: 'The desired state of a network attachment.',
                  type: 'object',
                  properties: {
                    config: { description: 'A JSON-formatted CNI configuration or configuration list.', type: 'string' },
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
