// One OpenAPI v3 structural schema per metallb.io kind and version: the field names,
// types, enums and ranges of MetalLB's CRDs. `crdSchema` is what a generated CRD's
// openAPIV3Schema holds; `manifestSchema` adds the ObjectMeta fields that the API
// server itself checks, for validating manifests offline.
import { V1BETA1, V1BETA2, type MetalLBKind } from './metallb.ts';
import type { JSONSchema } from './schema.ts';

const string = (description?: string): JSONSchema => ({ type: 'string', ...(description ? { description } : {}) });
const boolean = (description: string, dflt?: boolean): JSONSchema => ({
  type: 'boolean',
  description,
  ...(dflt !== undefined ? { default: dflt } : {}),
});
const integer = (description: string, minimum?: number, maximum?: number, extra: Partial<JSONSchema> = {}): JSONSchema => ({
  type: 'integer',
  description,
  ...(minimum !== undefined ? { minimum } : {}),
  ...(maximum !== undefined ? { maximum } : {}),
  ...extra,
});
const list = (items: JSONSchema, description?: string, extra: Partial<JSONSchema> = {}): JSONSchema => ({
  type: 'array',
  items,
  ...(description ? { description } : {}),
  ...extra,
});
const object = (properties: Record<string, JSONSchema>, required?: string[], description?: string): JSONSchema => ({
  type: 'object',
  properties,
  ...(required ? { required } : {}),
  ...(description ? { description } : {}),
});
const stringMap = (description: string): JSONSchema => ({ type: 'object', additionalProperties: { type: 'string' }, description });

/** metav1.LabelSelector. Operator and value rules are checked by the config builder. */
export const LABEL_SELECTOR: JSONSchema = {
  ...object(
    {
      matchLabels: stringMap('Labels a matching object carries, ANDed.'),
      matchExpressions: list(
        object(
          {
            key: string('The label key the requirement applies to.'),
            operator: string('In, NotIn, Exists or DoesNotExist.'),
            values: list(string(), 'Non-empty for In and NotIn, empty for Exists and DoesNotExist.', {
              'x-kubernetes-list-type': 'atomic',
            }),
          },
          ['key', 'operator'],
        ),
        'Requirements, ANDed.',
        { 'x-kubernetes-list-type': 'atomic' },
      ),
    },
    undefined,
    'A label query. An empty selector matches every object.',
  ),
  'x-kubernetes-map-type': 'atomic',
};

const selectors = (description: string): JSONSchema => list(LABEL_SELECTOR, description);

const ASN_MAX = 4294967295;
const asn = (description: string): JSONSchema => integer(description, 0, ASN_MAX, { format: 'int64' });

/** The fields of metav1.ObjectMeta a manifest may set (what `kubectl apply` accepts). */
export const OBJECT_META: JSONSchema = object({
  name: { type: 'string', maxLength: 253 },
  generateName: string(),
  namespace: { type: 'string', maxLength: 63 },
  labels: stringMap('Labels.'),
  annotations: stringMap('Annotations.'),
  uid: string(),
  resourceVersion: string(),
  generation: integer('Generation.'),
  creationTimestamp: string(),
  deletionTimestamp: string(),
  deletionGracePeriodSeconds: integer('Grace period.'),
  finalizers: list(string()),
  ownerReferences: list({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
  managedFields: list({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
  selfLink: string(),
});

const EMPTY_STATUS: JSONSchema = { type: 'object', description: 'Unused.' };

function resource(spec: JSONSchema | undefined, status: JSONSchema | undefined, required: string[] = []): JSONSchema {
  const properties: Record<string, JSONSchema> = {
    apiVersion: string('The versioned schema of this object.'),
    kind: string('The kind of this object.'),
    metadata: { type: 'object' },
  };
  if (spec) properties.spec = spec;
  if (status) properties.status = status;
  return object(properties, required.length ? required : undefined);
}

const IP_ADDRESS_POOL_V1BETA1 = resource(
  object(
    {
      addresses: list(
        string(),
        'CIDRs (10.0.0.0/24, 2001:db8::/64) or inclusive ranges (10.0.0.3-10.0.0.254) this pool hands out.',
      ),
      autoAssign: boolean('False: used only for services asking for this pool or one of its IPs.', true),
      avoidBuggyIPs: boolean('Never hand out IPv4 addresses ending in .0 or .255.', false),
      serviceAllocation: object(
        {
          priority: integer('Lower wins; unset or 0 ranks after every set priority.', 0),
          namespaces: list(string(), 'Namespaces whose services may use this pool.'),
          namespaceSelectors: selectors('Selectors on Namespace labels, an alternative to namespaces.'),
          serviceSelectors: selectors('Selectors on Service labels, ORed.'),
        },
        undefined,
        'Restricts the pool to matching services, and ranks it.',
      ),
    },
    ['addresses'],
  ),
  object({
    assignedIPv4: integer('IPv4 addresses in use.', 0, undefined, { format: 'int64' }),
    assignedIPv6: integer('IPv6 addresses in use.', 0, undefined, { format: 'int64' }),
    availableIPv4: integer('IPv4 addresses free.', 0, undefined, { format: 'int64' }),
    availableIPv6: integer('IPv6 addresses free; saturates at the int64 maximum.', 0, undefined, { format: 'int64' }),
  }),
  ['spec'],
);

const L2_ADVERTISEMENT_V1BETA1 = resource(
  object({
    ipAddressPools: list(string(), 'Pools to announce, by name.'),
    ipAddressPoolSelectors: selectors('Pools to announce, by label. With ipAddressPools both empty: every pool.'),
    nodeSelectors: selectors('Nodes that may announce. Empty: every node.'),
    interfaces: list(string(), 'Interfaces to announce from. Empty: every suitable interface.'),
    serviceSelectors: selectors('Services to announce. Empty: every service.'),
    // MetalLB main (after v0.16.1): soft preferences for the announcing node.
    preferredNodeSelectors: list(
      object(
        {
          weight: integer('1..100; the weights of every preference a node matches add up.', 1, 100, { format: 'int32' }),
          preference: { ...LABEL_SELECTOR, description: 'The nodes that get this weight, among those nodeSelectors allow. Empty: every node.' },
        },
        ['weight', 'preference'],
      ),
      'Nodes preferred as the announcing node, by weight (not used by the election yet).',
    ),
  }),
  EMPTY_STATUS,
);

const BGP_ADVERTISEMENT_V1BETA1 = resource(
  object({
    aggregationLength: integer('Announced IPv4 prefix length.', 1, 32, { format: 'int32', default: 32 }),
    aggregationLengthV6: integer('Announced IPv6 prefix length.', 1, 128, { format: 'int32', default: 128 }),
    localPref: integer('BGP LOCAL_PREF, sent to iBGP peers.', 0, ASN_MAX, { format: 'int64' }),
    communities: list(string(), 'a:b, large:a:b:c, or a Community alias name.'),
    ipAddressPools: list(string(), 'Pools to announce, by name.'),
    ipAddressPoolSelectors: selectors('Pools to announce, by label. With ipAddressPools both empty: every pool.'),
    nodeSelectors: selectors('Nodes that may announce. Empty: every node.'),
    peers: list(string(), 'BGPPeer names to announce to. Empty: every peer.'),
    serviceSelectors: selectors('Services to announce. Empty: every service.'),
  }),
  EMPTY_STATUS,
);

const SECRET_REFERENCE: JSONSchema = {
  ...object({ name: string('Secret name.'), namespace: string('Secret namespace.') }),
  'x-kubernetes-map-type': 'atomic',
};

const BGP_PEER_V1BETA2 = resource(
  object(
    {
      myASN: asn('AS number of the local end.'),
      peerASN: asn('AS number expected from the peer. Exclusive with dynamicASN.'),
      dynamicASN: { type: 'string', enum: ['internal', 'external'], description: 'Accept the peer ASN: internal (= myASN) or external (≠ myASN).' },
      localASN: asn('AS number presented to this peer instead of myASN.'),
      peerAddress: string('Address to dial. Exclusive with interface.'),
      interface: string('Node interface for unnumbered BGP. Exclusive with peerAddress.'),
      sourceAddress: string('Source address of the session.'),
      peerPort: integer('Port to dial.', 1, 16384, { default: 179 }),
      holdTime: string('BGP hold time (Go duration), 0 or >= 3s. Default 90s.'),
      keepaliveTime: string('BGP keepalive time (Go duration), <= holdTime. Default holdTime/3.'),
      connectTime: string('Wait between connection attempts (Go duration), 1s..65535s, whole seconds.'),
      routerID: string('BGP identifier (an IPv4 address).'),
      nodeSelectors: selectors('Nodes that peer. Empty: every node.'),
      password: string('TCP MD5 password (RFC 2385). Exclusive with passwordSecret.'),
      passwordSecret: SECRET_REFERENCE,
      bfdProfile: string('BFDProfile name.'),
      enableGracefulRestart: boolean('Graceful restart. Immutable.'),
      ebgpMultiHop: boolean('The eBGP peer is more than one hop away.'),
      vrf: string('Host VRF of the session.'),
      disableMP: boolean('Deprecated; no effect.', false),
      dualStackAddressFamily: boolean('Carry both address families on this session.', false),
    },
    ['myASN'],
  ),
  EMPTY_STATUS,
  ['spec'],
);

const LEGACY_NODE_SELECTOR: JSONSchema = object({
  matchLabels: stringMap('Labels a matching node carries.'),
  matchExpressions: list(
    object(
      {
        key: string(),
        operator: string(),
        values: list(string(), undefined, { minItems: 1 }),
      },
      ['key', 'operator', 'values'],
    ),
  ),
});

const BGP_PEER_V1BETA1 = resource(
  object(
    {
      myASN: asn('AS number of the local end.'),
      peerASN: asn('AS number of the peer.'),
      peerAddress: string('Address to dial.'),
      sourceAddress: string('Source address of the session.'),
      peerPort: integer('Port to dial.', 1, 16384),
      holdTime: string('BGP hold time (Go duration).'),
      keepaliveTime: string('BGP keepalive time (Go duration).'),
      routerID: string('BGP identifier.'),
      nodeSelectors: list(LEGACY_NODE_SELECTOR, 'Nodes that peer.'),
      password: string('TCP MD5 password.'),
      bfdProfile: string('BFDProfile name.'),
      ebgpMultiHop: boolean('The eBGP peer is more than one hop away.'),
    },
    ['myASN', 'peerASN', 'peerAddress'],
  ),
  EMPTY_STATUS,
  ['spec'],
);

const BFD_PROFILE_V1BETA1 = resource(
  object({
    receiveInterval: integer('Milliseconds. Default 300.', 10, 60000),
    transmitInterval: integer('Milliseconds. Default 300.', 10, 60000),
    detectMultiplier: integer('Lost packets before the session is down. Default 3.', 2, 255),
    echoInterval: integer('Milliseconds. Default 50.', 10, 60000),
    echoMode: boolean('Echo function (IPv4 single-hop only).'),
    passiveMode: boolean('Wait for the peer to start.'),
    minimumTtl: integer('Multi-hop: lowest TTL accepted. Default 254.', 1, 254),
  }),
  EMPTY_STATUS,
);

const COMMUNITY_V1BETA1 = resource(
  object({
    communities: list(
      object({
        name: string('Alias used in BGPAdvertisement.spec.communities.'),
        value: string('a:b or large:a:b:c.'),
      }),
    ),
  }),
  EMPTY_STATUS,
);

const SERVICE_L2_STATUS_V1BETA1 = resource(
  { type: 'object' },
  object({
    node: string('Node announcing the service.'),
    serviceName: string(),
    serviceNamespace: string(),
    interfaces: list(object({ name: string() })),
  }),
);

const SERVICE_BGP_STATUS_V1BETA1 = resource(
  { type: 'object' },
  object({
    node: string('Node announcing the service.'),
    serviceName: string(),
    serviceNamespace: string(),
    peers: list(string(), 'Peers the service is advertised to.'),
  }),
);

const CONDITION: JSONSchema = object(
  {
    type: string(),
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: integer('Generation observed.', 0),
    lastTransitionTime: string(),
    reason: string(),
    message: string(),
  },
  ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
);

const CONFIGURATION_STATE_V1BETA1 = resource(
  undefined,
  object({
    result: { type: 'string', enum: ['Valid', 'Invalid', 'Unknown'] },
    lastError: string('Summary of the errors when Invalid.'),
    conditions: list(CONDITION, undefined, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  }),
);

const SCHEMAS: Readonly<Record<MetalLBKind, Readonly<Record<string, JSONSchema>>>> = {
  IPAddressPool: { [V1BETA1]: IP_ADDRESS_POOL_V1BETA1 },
  L2Advertisement: { [V1BETA1]: L2_ADVERTISEMENT_V1BETA1 },
  BGPAdvertisement: { [V1BETA1]: BGP_ADVERTISEMENT_V1BETA1 },
  BGPPeer: { [V1BETA1]: BGP_PEER_V1BETA1, [V1BETA2]: BGP_PEER_V1BETA2 },
  BFDProfile: { [V1BETA1]: BFD_PROFILE_V1BETA1 },
  Community: { [V1BETA1]: COMMUNITY_V1BETA1 },
  ServiceL2Status: { [V1BETA1]: SERVICE_L2_STATUS_V1BETA1 },
  ServiceBGPStatus: { [V1BETA1]: SERVICE_BGP_STATUS_V1BETA1 },
  ConfigurationState: { [V1BETA1]: CONFIGURATION_STATE_V1BETA1 },
};

/** The CRD openAPIV3Schema of a kind at an apiVersion (`metallb.io/v1beta1`). */
export function crdSchema(kind: MetalLBKind, apiVersion: string): JSONSchema | undefined {
  const byVersion = SCHEMAS[kind];
  return Object.hasOwn(byVersion, apiVersion) ? byVersion[apiVersion] : undefined;
}

/** The schema a manifest is checked against: the CRD schema plus ObjectMeta. */
export function manifestSchema(kind: MetalLBKind, apiVersion: string): JSONSchema | undefined {
  const schema = crdSchema(kind, apiVersion);
  if (!schema) return undefined;
  return { ...schema, properties: { ...schema.properties, metadata: OBJECT_META } };
}
