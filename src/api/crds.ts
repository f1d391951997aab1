// CustomResourceDefinitions for every metallb.io kind, generated from the JSON Schemas
// in metallb-schemas.ts, so the API server enforces the same shapes `ferrolb validate`
// does. deploy/crds/ holds the output (`npm run gen:crds`); a test keeps it in sync.
import { stringify } from 'yaml';
import { KIND, METALLB_GROUP, PLURAL, SERVED_VERSIONS, V1BETA2, type MetalLBKind } from './metallb.ts';
import { crdSchema } from './metallb-schemas.ts';
import type { JSONSchema } from './schema.ts';


/** Kinds whose status is written through the status subresource. */
const WITH_STATUS: readonly MetalLBKind[] = ['IPAddressPool', 'ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState'];

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date';
  jsonPath: string;
  priority?: number;
  description?: string;
}

// The first columns are MetalLB's (the tutorial's `kubectl get IPAddressPool` output);
// the counts are ferrolb's, shown with `-o wide` so the default view stays the same.
const COLUMNS: Partial<Record<MetalLBKind, PrinterColumn[]>> = {
  IPAddressPool: [
    { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign' },
    { name: 'Avoid Buggy IPs', type: 'boolean', jsonPath: '.spec.avoidBuggyIPs' },
    { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses' },
    { name: 'Assigned IPv4', type: 'integer', jsonPath: '.status.assignedIPv4', priority: 1 },
    { name: 'Available IPv4', type: 'integer', jsonPath: '.status.availableIPv4', priority: 1 },
    { name: 'Assigned IPv6', type: 'integer', jsonPath: '.status.assignedIPv6', priority: 1 },
    { name: 'Available IPv6', type: 'integer', jsonPath: '.status.availableIPv6', priority: 1 },
  ],
  L2Advertisement: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
    { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces' },
    { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 10 },
  ],
  BGPAdvertisement: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
    { name: 'Peers', type: 'string', jsonPath: '.spec.peers' },
    { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 10 },
  ],
  BGPPeer: [
    { name: 'Address', type: 'string', jsonPath: '.spec.peerAddress' },
    { name: 'ASN', type: 'string', jsonPath: '.spec.peerASN' },
    { name: 'BFD Profile', type: 'string', jsonPath: '.spec.bfdProfile' },
    { name: 'Multi Hops', type: 'string', jsonPath: '.spec.ebgpMultiHop' },
  ],
  BFDProfile: [
    { name: 'Passive Mode', type: 'boolean', jsonPath: '.spec.passiveMode' },
    { name: 'Transmit Interval', type: 'integer', jsonPath: '.spec.transmitInterval' },
    { name: 'Receive Interval', type: 'integer', jsonPath: '.spec.receiveInterval' },
    { name: 'Multiplier', type: 'integer', jsonPath: '.spec.detectMultiplier' },
  ],
  ServiceL2Status: [
    { name: 'Allocated Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Service Name', type: 'string', jsonPath: '.status.serviceName' },
    { name: 'Service Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
  ],
  ServiceBGPStatus: [
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Service Name', type: 'string', jsonPath: '.status.serviceName' },
    { name: 'Service Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
  ],
  ConfigurationState: [
    { name: 'Result', type: 'string', jsonPath: '.status.result' },
    { name: 'Last Error', type: 'string', jsonPath: '.status.lastError', priority: 1 },
  ],
};

/** Strips what a CRD schema may not hold: descriptions stay, defaults stay. */
function structural(schema: JSONSchema): JSONSchema {
  const out: Record<string, unknown> = { ...schema };
  if (schema.properties) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, structural(v)]));
  if (schema.items) out.items = structural(schema.items);
  if (schema.additionalProperties) out.additionalProperties = structural(schema.additionalProperties);
  return out as JSONSchema;
}

export function crdFor(kind: MetalLBKind): Record<string, unknown> {
  const plural = PLURAL[kind];
  const versions = SERVED_VERSIONS[kind];
  // BGPPeer v1beta2 is stored; v1beta1 stays served (deprecated) so old manifests apply.
  const storage = versions.includes(V1BETA2) ? V1BETA2 : versions[0]!;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${METALLB_GROUP}` },
    spec: {
      group: METALLB_GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: versions.map((apiVersion) => {
        const version = apiVersion.split('/')[1]!;
        const schema = crdSchema(kind, apiVersion)!;
        return {
          name: version,
          served: true,
          storage: apiVersion === storage,
          ...(apiVersion !== storage && kind === 'BGPPeer' ? { deprecated: true, deprecationWarning: 'metallb.io/v1beta1 BGPPeer is deprecated; use metallb.io/v1beta2' } : {}),
          schema: { openAPIV3Schema: structural(schema) },
          ...(WITH_STATUS.includes(kind) ? { subresources: { status: {} } } : {}),
          ...(COLUMNS[kind] ? { additionalPrinterColumns: [...COLUMNS[kind]!, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }] } : {}),
        };
      }),
    },
  };
}

/** Every CRD, one YAML file each: file name → content. */
export function generateCRDFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of Object.values(KIND)) {
    const crd = crdFor(kind);
    files.set(`${METALLB_GROUP}_${PLURAL[kind]}.yaml`, '# Generated by `npm run gen:crds` from src/api/metallb-schemas.ts; do not edit.\n' + stringify(crd, { lineWidth: 0 }));
  }
  return files;
}
