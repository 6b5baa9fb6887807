// A loopback stand-in for kube-apiserver serving Pods and NetworkAttachmentDefinitions over
// HTTPS (a CA made per test run), with bearer-token and client-certificate authentication,
// an authorizer, paged lists and watches with bookmarks.
// Node builtins only: main.ts bundles this file into a standalone script.
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { allowAuthenticated, Authenticator, BRAID_SA, forbiddenMessage, forbiddenPathMessage, PUBLIC_PATHS, type Authorizer, type RequestAttributes, type UserInfo } from './auth.js';
import { rawRequest } from './client.js';
import { kubeconfigText, type KubeconfigOptions } from './kubeconfig.js';
import { testPki, type KeyPair, type TestPki } from './pki.js';

export type { Authorizer, RequestAttributes, UserInfo } from './auth.js';
export type { KubeconfigOptions } from './kubeconfig.js';
export { BRAID_SA } from './auth.js';
export { openRequest, rawRequest, type RawAnswer, type RawRequest } from './client.js';

// ---------------------------------------------------------------- types

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface NadSpec {
  namespace: string;
  name: string;
  config: string | object;
  annotations?: Record<string, string>;
}

export interface FakeState {
  pods?: KubeObject[];
  nads?: NadSpec[];
}

export interface RequestRecord {
  method: string;
  /** URL path without the query string. */
  path: string;
  query: Record<string, string>;
  contentType?: string;
  /** The User-Agent header, as kube-apiserver's audit log records it. */
  userAgent?: string;
  /** Parsed JSON when the body is JSON, the raw text otherwise, undefined when empty. */
  body?: unknown;
  /** 0 while no response head has been sent (or never will be: destroyed socket). */
  status: number;
  /** Who the request authenticated as (undefined: not authenticated, or a control call). */
  user?: string;
  /** Epoch milliseconds. */
  time: number;
}

export type RequestFilter =
  | ((record: RequestRecord) => boolean)
  | {
      method?: string;
      path?: string;
      pathPrefix?: string;
      pathRegex?: RegExp | string;
      status?: number;
      contentType?: string;
      /** Every listed query parameter must be present with this value. */
      query?: Record<string, string>;
    };

export interface FaultSpec {
  method?: string;
  /** Tested against the path without the query string. */
  pathRegex?: RegExp | string;
  /** Every listed query parameter must be present with this value. */
  query?: Record<string, string>;
  /** Respond with this status; the body defaults to a matching Status object. */
  status?: number;
  body?: unknown;
  /** Wait before answering (or before the status/destroy); alone it just slows the real answer. */
  delayMs?: number;
  /** How many requests the fault applies to; unlimited by default. */
  times?: number;
  destroySocket?: boolean;
}

export interface StopOptions {
  graceful?: boolean;
  timeoutMs?: number;
}

export interface StartOptions {
  port?: number;
  /** The bearer token the server accepts (for BRAID_SA) and kubeconfigs carry; default random. */
  token?: string;
  /** HTTPS with this process's test CA (default); false serves plain HTTP, as no cluster does. */
  tls?: boolean;
  /** Another CA and serving certificate than this process's shared one. */
  pki?: TestPki;
  /** Requests without credentials become system:anonymous (default true, like kube-apiserver); false: 401. */
  anonymous?: boolean;
  /** Decides every resource request of an authenticated user (default: all allowed). */
  authorizer?: Authorizer;
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK (default 60 s, as kube-apiserver). */
  bookmarkIntervalMs?: number;
}

export interface FakeApiServer {
  readonly url: string;
  readonly port: number;
  /** The token kubeconfigs carry by default (the most recently accepted one). */
  readonly token: string;
  readonly tls: boolean;
  /** The CA certificate (PEM) clients verify the server with; undefined for plain HTTP. */
  readonly ca: string | undefined;
  /** Accept another bearer token (for BRAID_SA unless a user is given). */
  addToken(token: string, user?: UserInfo): void;
  /** Stop accepting a token: requests carrying it get 401 from now on. */
  revokeToken(token: string): boolean;
  /** Accept only `next` (default: a new random token) from now on, as after a projected-token rotation. */
  rotateToken(next?: string): string;
  /** A client certificate and key signed by the server's CA: CN = user, O = groups. */
  issueClientCert(user: string, groups?: string[]): KeyPair;
  /** Replace the authorizer (undefined: allow every authenticated user). */
  setAuthorizer(authorizer: Authorizer | undefined): void;
  /** Ends every open watch cleanly (clients re-watch, authenticating again). */
  closeWatches(): void;
  /** Current global resourceVersion. */
  readonly resourceVersion: string;
  readonly requests: readonly RequestRecord[];
  count(filter?: RequestFilter): number;
  reset(): void;
  fault(spec: FaultSpec): void;
  clearFaults(): void;
  /** Creates or replaces the pod (namespace defaults to "default"). */
  addPod(pod: KubeObject): KubeObject;
  /** Replaces an existing pod; throws when it does not exist. */
  updatePod(pod: KubeObject): KubeObject;
  deletePod(namespace: string, name: string): boolean;
  getPod(namespace: string, name: string): KubeObject | undefined;
  listPods(): KubeObject[];
  /** Creates or replaces a NAD; object configs are JSON-stringified into spec.config. */
  addNad(namespace: string, name: string, config: string | object, annotations?: Record<string, string>): KubeObject;
  deleteNad(namespace: string, name: string): boolean;
  getNad(namespace: string, name: string): KubeObject | undefined;
  loadState(state: FakeState): void;
  /** Forgets history: watches from an older resourceVersion and older continue tokens get 410 Expired. */
  compactHistory(): void;
  writeKubeconfig(path: string, opts?: KubeconfigOptions): string;
  kubeconfigYaml(opts?: KubeconfigOptions): string;
  /**
   * Closes the listener and every open connection; state and port are kept. `graceful` shuts
   * down as kube-apiserver does: no new connections, open watches ended cleanly, idle
   * connections closed, then a wait for the clients to let go of the rest, cut after
   * `timeoutMs` (kube-apiserver's shutdown timeout, 60 s by default).
   */
  stop(opts?: StopOptions): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- resources

interface ResourceType {
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  group: string;
  version: string;
  statusSubresource: boolean;
  shortNames: string[];
  /** Field selectors the real registry supports; any other label is a 400. */
  fieldLabels: string[];
}

const POD: ResourceType = {
  plural: 'pods',
  singular: 'pod',
  kind: 'Pod',
  listKind: 'PodList',
  group: '',
  version: 'v1',
  statusSubresource: true,
  shortNames: ['po'],
  fieldLabels: [
    'metadata.name',
    'metadata.namespace',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.podIPs',
    'status.nominatedNodeName',
  ],
};

const NAD: ResourceType = {
  plural: 'network-attachment-definitions',
  singular: 'network-attachment-definition',
  kind: 'NetworkAttachmentDefinition',
  listKind: 'NetworkAttachmentDefinitionList',
  group: 'k8s.cni.cncf.io',
  version: 'v1',
  statusSubresource: false,
  shortNames: ['nad', 'net-attach-def'],
  // A custom resource: only the metadata fields.
  fieldLabels: ['metadata.name', 'metadata.namespace'],
};

const RESOURCES = [POD, NAD];

const apiVersionOf = (r: ResourceType): string => (r.group ? `${r.group}/${r.version}` : r.version);
const pathPrefixOf = (r: ResourceType): string[] => (r.group ? ['apis', r.group, r.version] : ['api', r.version]);
const qualifiedName = (r: ResourceType): string => (r.group ? `${r.plural}.${r.group}` : r.plural);

// ---------------------------------------------------------------- Status errors

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function statusObject(code: number, message: string, reason?: string, details?: object): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: reason ?? REASONS[code] ?? '',
    details,
    code,
  };
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body['message']));
  }
}

const fail = (code: number, message: string, reason?: string, details?: object): ApiError =>
  new ApiError(code, statusObject(code, message, reason, details));

function resourceDetails(r: ResourceType, name: string): object {
  return r.group ? { name, group: r.group, kind: r.plural } : { name, kind: r.plural };
}

const notFound = (r: ResourceType, name: string): ApiError =>
  fail(404, `${qualifiedName(r)} "${name}" not found`, 'NotFound', resourceDetails(r, name));

const conflict = (r: ResourceType, name: string, why: string): ApiError =>
  fail(409, `Operation cannot be fulfilled on ${qualifiedName(r)} "${name}": ${why}`, 'Conflict', resourceDetails(r, name));

const pathNotFound = (): ApiError => fail(404, 'the server could not find the requested resource', 'NotFound', {});

// ---------------------------------------------------------------- JSON helpers

type JsonMap = Record<string, unknown>;

const isMap = (v: unknown): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (!isMap(a) || !isMap(b)) return false;
  const keys = Object.keys(a).filter((k) => a[k] !== undefined);
  const otherKeys = Object.keys(b).filter((k) => b[k] !== undefined);
  return keys.length === otherKeys.length && keys.every((k) => deepEqual(a[k], b[k]));
}

function parseMaybeJson(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function parseJsonBody(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw fail(400, `invalid JSON body: ${(err as Error).message}`);
  }
}

function kubeTimestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------- patches

/** RFC 7386; strategic-merge directives ($patch, $setElementOrder/...) are dropped. */
export function mergePatch(target: unknown, patch: unknown, dropDirectives = false): unknown {
  if (!isMap(patch)) return clone(patch);
  const result: JsonMap = isMap(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (dropDirectives && key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value, dropDirectives);
  }
  return result;
}

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') throw fail(422, 'json patch: path must be a string');
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw fail(422, `json patch: invalid pointer ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function lookup(doc: unknown, tokens: string[]): unknown {
  let node = doc;
  for (const token of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length - 1)];
    else if (isMap(node) && Object.hasOwn(node, token)) node = node[token];
    else throw fail(422, `json patch: path /${tokens.join('/')} does not exist`);
  }
  return node;
}

function arrayIndex(token: string, max: number): number {
  const index = /^(0|[1-9]\d*)$/.test(token) ? Number(token) : NaN;
  if (!(index >= 0 && index <= max)) throw fail(422, `json patch: array index ${token} out of bounds`);
  return index;
}

function writeAt(doc: unknown, tokens: string[], value: unknown, mode: 'add' | 'replace' | 'remove'): unknown {
  if (tokens.length === 0) return mode === 'remove' ? undefined : value;
  const parent = lookup(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    if (mode === 'add') parent.splice(last === '-' ? parent.length : arrayIndex(last, parent.length), 0, value);
    else if (mode === 'replace') parent[arrayIndex(last, parent.length - 1)] = value;
    else parent.splice(arrayIndex(last, parent.length - 1), 1);
  } else if (isMap(parent)) {
    if (mode !== 'add' && !Object.hasOwn(parent, last)) {
      throw fail(422, `json patch: ${mode} of missing path /${tokens.join('/')}`);
    }
    if (mode === 'remove') delete parent[last];
    else parent[last] = value;
  } else {
    throw fail(422, `json patch: parent of /${tokens.join('/')} is not a container`);
  }
  return doc;
}

/** RFC 6902: add, remove, replace, move, copy, test. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw fail(400, 'json patch must be an array of operations');
  let doc = clone(target);
  for (const op of operations) {
    if (!isMap(op)) throw fail(400, 'json patch operation must be an object');
    const path = parsePointer(op['path']);
    switch (op['op']) {
      case 'add':
        doc = writeAt(doc, path, clone(op['value']), 'add');
        break;
      case 'replace':
        lookup(doc, path);
        doc = writeAt(doc, path, clone(op['value']), 'replace');
        break;
      case 'remove':
        doc = writeAt(doc, path, undefined, 'remove');
        break;
      case 'test':
        if (!deepEqual(lookup(doc, path), op['value'])) throw fail(422, `json patch: test failed at ${op['path']}`);
        break;
      case 'move': {
        const from = parsePointer(op['from']);
        const value = lookup(doc, from);
        doc = writeAt(writeAt(doc, from, undefined, 'remove'), path, value, 'add');
        break;
      }
      case 'copy':
        doc = writeAt(doc, path, clone(lookup(doc, parsePointer(op['from']))), 'add');
        break;
      default:
        throw fail(400, `json patch: unsupported op ${String(op['op'])}`);
    }
  }
  return doc;
}

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

function applyPatch(current: KubeObject, contentType: string, raw: string): unknown {
  if (!PATCH_TYPES.includes(contentType)) {
    throw fail(
      415,
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
    );
  }
  const patch = parseJsonBody(raw);
  if (contentType === 'application/json-patch+json') return jsonPatch(current, patch);
  if (!isMap(patch)) throw fail(400, 'merge patch body must be a JSON object');
  return mergePatch(current, patch, contentType === 'application/strategic-merge-patch+json');
}

// ---------------------------------------------------------------- selectors

type Matcher = (obj: KubeObject) => boolean;

interface Requirement {
  key: string;
  op: 'eq' | 'ne' | 'exists' | 'absent';
  value: string;
}

function parseRequirements(selector: string | undefined, allowExistence: boolean, what: string): Requirement[] {
  if (!selector) return [];
  if (selector.includes('(')) throw fail(400, `set-based ${what} selectors are not supported by the fake API server`);
  return selector.split(',').map((term) => {
    const m = /^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (m) return { key: m[1] as string, op: m[2] === '!=' ? 'ne' : 'eq', value: m[3] as string };
    const exists = /^\s*(!?)([^!=\s]+)\s*$/.exec(term);
    if (allowExistence && exists) return { key: exists[2] as string, op: exists[1] ? 'absent' : 'exists', value: '' };
    throw fail(400, `invalid ${what} selector: ${JSON.stringify(term)}`);
  });
}

function fieldValue(obj: KubeObject, path: string): string {
  let node: unknown = obj;
  for (const part of path.split('.')) node = isMap(node) ? node[part] : undefined;
  return node === undefined || node === null ? '' : String(node);
}

function satisfies(req: Requirement, value: string | undefined): boolean {
  switch (req.op) {
    case 'eq':
      return value === req.value;
    case 'ne':
      return value !== req.value;
    case 'exists':
      return value !== undefined;
    case 'absent':
      return value === undefined;
  }
}

function makeMatcher(resource: ResourceType, namespace: string | undefined, query: Record<string, string>): Matcher {
  const fields = parseRequirements(query['fieldSelector'], false, 'field');
  for (const f of fields) if (!resource.fieldLabels.includes(f.key)) throw fail(400, `field label not supported: ${f.key}`);
  const labels = parseRequirements(query['labelSelector'], true, 'label');
  return (obj) =>
    (namespace === undefined || obj.metadata.namespace === namespace) &&
    fields.every((r) => satisfies(r, fieldValue(obj, r.key))) &&
    labels.every((r) => satisfies(r, obj.metadata.labels?.[r.key]));
}

// ---------------------------------------------------------------- store

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoreEvent {
  rv: number;
  type: EventType;
  resource: ResourceType;
  object: KubeObject;
  previous?: KubeObject;
}

const HISTORY_LIMIT = 10_000;

/** Stored objects are never mutated in place, so events can share them. */
class ObjectStore {
  private rv = 1000;
  private readonly buckets = new Map<ResourceType, Map<string, KubeObject>>(RESOURCES.map((r) => [r, new Map()]));
  private history: StoreEvent[] = [];
  /** Every event after this resourceVersion is still in history. */
  private historyFloor = this.rv;
  readonly listeners = new Set<(event: StoreEvent) => void>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  get(resource: ResourceType, namespace: string, name: string): KubeObject | undefined {
    return this.bucket(resource).get(`${namespace}/${name}`);
  }

  list(resource: ResourceType): KubeObject[] {
    return [...this.bucket(resource).values()];
  }

  get rvNumber(): number {
    return this.rv;
  }

  put(resource: ResourceType, input: KubeObject): KubeObject {
    const object: KubeObject = { apiVersion: apiVersionOf(resource), kind: resource.kind, ...clone(input) };
    const meta = object.metadata;
    const namespace = (meta.namespace ||= 'default');
    if (!meta.name) throw fail(422, `${resource.kind}: metadata.name is required`);
    const previous = this.get(resource, namespace, meta.name);
    object.apiVersion = apiVersionOf(resource);
    object.kind = resource.kind;
    meta.uid ||= previous?.metadata.uid ?? randomUUID();
    meta.creationTimestamp ||= previous?.metadata.creationTimestamp ?? kubeTimestamp();
    meta.resourceVersion = String(++this.rv);
    this.bucket(resource).set(`${namespace}/${meta.name}`, object);
    this.emit({ rv: this.rv, type: previous ? 'MODIFIED' : 'ADDED', resource, object, previous });
    return object;
  }

  remove(resource: ResourceType, namespace: string, name: string): KubeObject | undefined {
    const previous = this.get(resource, namespace, name);
    if (!previous) return undefined;
    this.bucket(resource).delete(`${namespace}/${name}`);
    const object = clone(previous);
    object.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, type: 'DELETED', resource, object, previous });
    return object;
  }

  /** The objects as they were at `rv` (what etcd serves a continued list), or undefined once compacted. */
  snapshotAt(resource: ResourceType, rv: number): Map<string, KubeObject> | undefined {
    if (rv < this.historyFloor) return undefined;
    const objects = new Map(this.bucket(resource));
    for (let i = this.history.length - 1; i >= 0 && (this.history[i] as StoreEvent).rv > rv; i--) {
      const e = this.history[i] as StoreEvent;
      if (e.resource !== resource) continue;
      const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
      if (e.type === 'ADDED') objects.delete(key);
      else objects.set(key, e.previous as KubeObject);
    }
    return objects;
  }

  /** Events after `rv`, or undefined when some of them were compacted away. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.historyFloor) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  compact(): void {
    this.history = [];
    this.historyFloor = this.rv;
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) this.historyFloor = (this.history.shift() as StoreEvent).rv;
    for (const listener of this.listeners) listener(event);
  }

  private bucket(resource: ResourceType): Map<string, KubeObject> {
    return this.buckets.get(resource) as Map<string, KubeObject>;
  }
}

/** What a selector-filtered watcher sees: objects entering/leaving the selection become ADDED/DELETED. */
function viewOf(event: StoreEvent, matches: Matcher): EventType | undefined {
  if (event.type !== 'MODIFIED') return matches(event.object) ? event.type : undefined;
  const was = event.previous ? matches(event.previous) : false;
  const is = matches(event.object);
  if (was && is) return 'MODIFIED';
  if (is) return 'ADDED';
  return was ? 'DELETED' : undefined;
}

// ---------------------------------------------------------------- routing

interface ResourceRoute {
  resource: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function startsWith(segments: string[], prefix: string[]): boolean {
  return prefix.every((p, i) => segments[i] === p);
}

function matchResourceRoute(segments: string[]): ResourceRoute | undefined {
  for (const resource of RESOURCES) {
    const prefix = pathPrefixOf(resource);
    if (!startsWith(segments, prefix)) continue;
    const rest = segments.slice(prefix.length);
    if (rest.length === 1 && rest[0] === resource.plural) return { resource };
    if (rest[0] !== 'namespaces' || rest[2] !== resource.plural || rest.length > 5) continue;
    return { resource, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  return undefined;
}

function discoveryBody(segments: string[], hostPort: string): unknown {
  const path = '/' + segments.join('/');
  if (path === '/api') {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: hostPort }],
    };
  }
  if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupsOf().map(apiGroup) };
  if (path === '/version') {
    return { major: '1', minor: '31', gitVersion: 'v1.31.0-braid-fake', platform: 'linux/amd64' };
  }
  for (const group of groupsOf()) {
    if (group && path === `/apis/${group}`) return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) };
  }
  for (const resource of RESOURCES) {
    if (path === '/' + pathPrefixOf(resource).join('/')) return resourceList(resource);
  }
  return undefined;
}

function groupsOf(): string[] {
  return [...new Set(RESOURCES.map((r) => r.group).filter(Boolean))];
}

function apiGroup(group: string): JsonMap {
  const versions = [{ groupVersion: `${group}/v1`, version: 'v1' }];
  return { name: group, versions, preferredVersion: versions[0] };
}

function resourceList(resource: ResourceType): JsonMap {
  const base = { namespaced: true, kind: resource.kind };
  const resources: JsonMap[] = [
    {
      ...base,
      name: resource.plural,
      singularName: resource.singular,
      shortNames: resource.shortNames,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    },
  ];
  if (resource.statusSubresource) {
    resources.push({ ...base, name: `${resource.plural}/status`, singularName: '', verbs: ['get', 'patch', 'update'] });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(resource), resources };
}

// ---------------------------------------------------------------- request plumbing

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  segments: string[];
  query: Record<string, string>;
  contentType: string;
  raw: string;
  record?: RequestRecord;
  user?: UserInfo;
}

interface FaultRule extends Omit<FaultSpec, 'pathRegex'> {
  pathRegex?: RegExp;
  remaining: number;
}

interface Sleeper {
  timer: NodeJS.Timeout;
  wake: () => void;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const data = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

function queryMatches(query: Record<string, string>, wanted: Record<string, string> | undefined): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => query[k] === v);
}

const toRegExp = (r: RegExp | string | undefined): RegExp | undefined =>
  r === undefined ? undefined : typeof r === 'string' ? new RegExp(r) : r;

function recordMatches(record: RequestRecord, filter: RequestFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(record);
  return (
    (filter.method === undefined || filter.method.toUpperCase() === record.method) &&
    (filter.path === undefined || filter.path === record.path) &&
    (filter.pathPrefix === undefined || record.path.startsWith(filter.pathPrefix)) &&
    (filter.pathRegex === undefined || (toRegExp(filter.pathRegex) as RegExp).test(record.path)) &&
    (filter.status === undefined || filter.status === record.status) &&
    (filter.contentType === undefined || filter.contentType === record.contentType) &&
    queryMatches(record.query, filter.query)
  );
}

const isTrue = (v: string | undefined): boolean => v !== undefined && ['1', 't', 'true', 'True', 'TRUE'].includes(v);

function nadObject(spec: NadSpec): KubeObject {
  const config = typeof spec.config === 'string' ? spec.config : JSON.stringify(spec.config);
  const metadata: ObjectMeta = { name: spec.name, namespace: spec.namespace };
  if (spec.annotations) metadata.annotations = { ...spec.annotations };
  return { metadata, spec: { config } };
}

// ---------------------------------------------------------------- metadata-only views

/**
 * Whether the client's most preferred media type is the metadata-only view
 * (`application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`), as kube-apiserver
 * serves it to informers that need no spec.
 */
function wantsMetadataOnly(req: IncomingMessage, as: string): boolean {
  const first = (req.headers.accept ?? '').split(',')[0] ?? '';
  const params = new Map(first.split(';').slice(1).map((p) => p.trim().split('=') as [string, string]));
  return params.get('as') === as && params.get('g') === 'meta.k8s.io' && params.get('v') === 'v1';
}

const partialObjectMetadata = (o: KubeObject): KubeObject => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata });

function metadataOnlyList(list: JsonMap): JsonMap {
  return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: list['metadata'], items: (list['items'] as KubeObject[]).map(partialObjectMetadata) };
}

// ---------------------------------------------------------------- paging

const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';

/** kube-apiserver's continue token: base64 JSON of the snapshot's resourceVersion and the last key served. */
function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: unknown; start?: unknown };
    if (t.v === 'meta.k8s.io/v1' && Number.isInteger(t.rv) && typeof t.start === 'string') return { rv: t.rv as number, start: t.start };
  } catch {
    // reported below
  }
  throw fail(400, `continue key is not valid: ${token}`, 'BadRequest');
}

// ---------------------------------------------------------------- server

class FakeApiServerImpl implements FakeApiServer {
  private readonly store = new ObjectStore();
  private readonly server: Server;
  private readonly log: RequestRecord[] = [];
  private faults: FaultRule[] = [];
  private readonly sleepers = new Set<Sleeper>();
  private readonly watchTimers = new Set<NodeJS.Timeout>();
  private readonly openWatches = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private listening = false;
  private currentPort: number;
  private readonly auth = new Authenticator();
  private authorizer: Authorizer;
  private primaryToken: string;
  private readonly pki: TestPki | undefined;
  readonly tls: boolean;
  private readonly bookmarkIntervalMs: number;

  constructor(opts: StartOptions) {
    this.currentPort = opts.port ?? 0;
    this.tls = opts.tls ?? true;
    this.pki = this.tls ? (opts.pki ?? testPki()) : undefined;
    this.primaryToken = opts.token ?? randomBytes(24).toString('base64url');
    this.auth.addToken(this.primaryToken);
    this.auth.anonymous = opts.anonymous ?? true;
    this.authorizer = opts.authorizer ?? allowAuthenticated;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 60_000;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => sendJson(res, 500, statusObject(500, String(err))));
    };
    // Client certificates are asked for, not required: a token or no credentials also get through
    // the handshake, and authentication decides (a certificate the CA did not sign is a 401).
    this.server = this.pki
      ? createHttpsServer({ key: this.pki.server.key, cert: this.pki.server.cert, ca: [this.pki.ca.cert], requestCert: true, rejectUnauthorized: false }, handler)
      : createHttpServer(handler);
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get port(): number {
    return this.currentPort;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.currentPort}`;
  }

  get token(): string {
    return this.primaryToken;
  }

  get ca(): string | undefined {
    return this.pki?.ca.cert;
  }

  addToken(token: string, user: UserInfo = BRAID_SA): void {
    this.auth.addToken(token, user);
    this.primaryToken = token;
  }

  revokeToken(token: string): boolean {
    return this.auth.revokeToken(token);
  }

  rotateToken(next = randomBytes(24).toString('base64url')): string {
    for (const t of this.auth.tokenList) this.auth.revokeToken(t);
    this.addToken(next);
    return next;
  }

  issueClientCert(user: string, groups: string[] = []): KeyPair {
    if (!this.pki) throw new Error('a plain-HTTP test API server has no CA to issue client certificates');
    return this.pki.issueClient(user, groups);
  }

  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer ?? allowAuthenticated;
  }

  get resourceVersion(): string {
    return this.store.resourceVersion;
  }

  get requests(): readonly RequestRecord[] {
    return this.log;
  }

  // ---- lifecycle

  async start(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.currentPort, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.currentPort = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  async stop(opts: StopOptions = {}): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    for (const timer of this.watchTimers) clearTimeout(timer);
    this.watchTimers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Every socket, not only those closeAllConnections knows: a TLS handshake under way when
    // stop() began would otherwise become a connection (and a watch) that keeps close() waiting.
    const cutAll = () => {
      for (const socket of this.sockets) socket.destroy();
    };
    if (!opts.graceful) {
      cutAll();
      return closed;
    }
    this.closeWatches();
    this.server.closeIdleConnections();
    const cut = setTimeout(cutAll, opts.timeoutMs ?? 60_000);
    await closed;
    clearTimeout(cut);
  }

  close(): Promise<void> {
    return this.stop();
  }

  // ---- request log and faults

  count(filter?: RequestFilter): number {
    return this.log.filter((r) => recordMatches(r, filter)).length;
  }

  reset(): void {
    this.log.length = 0;
  }

  fault(spec: FaultSpec): void {
    this.faults.push({ ...spec, pathRegex: toRegExp(spec.pathRegex), remaining: spec.times ?? Infinity });
  }

  clearFaults(): void {
    this.faults = [];
  }

  // ---- state helpers

  addPod(pod: KubeObject): KubeObject {
    return clone(this.store.put(POD, pod));
  }

  updatePod(pod: KubeObject): KubeObject {
    const namespace = pod.metadata.namespace || 'default';
    const name = pod.metadata.name ?? '';
    if (!this.store.get(POD, namespace, name)) throw notFound(POD, name);
    return clone(this.store.put(POD, pod));
  }

  deletePod(namespace: string, name: string): boolean {
    return this.store.remove(POD, namespace, name) !== undefined;
  }

  getPod(namespace: string, name: string): KubeObject | undefined {
    const pod = this.store.get(POD, namespace, name);
    return pod && clone(pod);
  }

  listPods(): KubeObject[] {
    return clone(this.store.list(POD));
  }

  addNad(namespace: string, name: string, config: string | object, annotations?: Record<string, string>): KubeObject {
    return clone(this.store.put(NAD, nadObject({ namespace, name, config, annotations })));
  }

  deleteNad(namespace: string, name: string): boolean {
    return this.store.remove(NAD, namespace, name) !== undefined;
  }

  getNad(namespace: string, name: string): KubeObject | undefined {
    const nad = this.store.get(NAD, namespace, name);
    return nad && clone(nad);
  }

  loadState(state: FakeState): void {
    for (const pod of state.pods ?? []) this.addPod(pod);
    for (const nad of state.nads ?? []) this.store.put(NAD, nadObject(nad));
  }

  compactHistory(): void {
    this.store.compact();
  }

  kubeconfigYaml(opts: KubeconfigOptions = {}): string {
    const cert = opts.clientCert;
    const client = cert === undefined ? undefined : typeof cert === 'string' ? this.issueClientCert(cert) : this.issueClientCert(cert.user, cert.groups);
    const token = opts.token ?? (client ? undefined : this.token);
    return kubeconfigText({ url: this.url, ca: this.ca, token, client, plainHttp: !this.tls }, opts);
  }

  writeKubeconfig(path: string, opts: KubeconfigOptions = {}): string {
    writeFileSync(path, this.kubeconfigYaml(opts), { mode: 0o600 });
    return path;
  }

  // ---- HTTP handling

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ctx: Ctx = {
      req,
      res,
      path: url.pathname,
      segments: url.pathname.split('/').filter(Boolean).map(decodeURIComponent),
      query: Object.fromEntries(url.searchParams),
      contentType: (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '',
      raw: await readBody(req),
    };
    try {
      if (ctx.segments[0] === '__fake') return this.control(ctx);
      ctx.record = this.recordRequest(ctx);
      if (await this.injectFault(ctx)) return;
      this.authenticate(ctx);
      this.route(ctx);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.reply(ctx, err.code, err.body);
    }
  }

  private recordRequest(ctx: Ctx): RequestRecord {
    const record: RequestRecord = {
      method: ctx.req.method ?? 'GET',
      path: ctx.path,
      query: ctx.query,
      contentType: ctx.req.headers['content-type'],
      userAgent: ctx.req.headers['user-agent'],
      body: parseMaybeJson(ctx.raw),
      status: 0,
      time: Date.now(),
    };
    this.log.push(record);
    return record;
  }

  private reply(ctx: Ctx, code: number, body: unknown): void {
    if (ctx.record) ctx.record.status = code;
    sendJson(ctx.res, code, body);
  }

  /** Returns true when the fault answered (or killed) the request. */
  private async injectFault(ctx: Ctx): Promise<boolean> {
    const rule = this.takeFault(ctx);
    if (!rule) return false;
    if (rule.delayMs) await this.sleep(rule.delayMs);
    if (ctx.res.destroyed || !this.listening) return true;
    if (rule.destroySocket) {
      ctx.req.socket.destroy();
      return true;
    }
    if (rule.status === undefined) return false;
    const body = rule.body ?? statusObject(rule.status, `injected fault: HTTP ${rule.status}`);
    this.reply(ctx, rule.status, body);
    return true;
  }

  private takeFault(ctx: Ctx): FaultRule | undefined {
    const method = ctx.req.method ?? 'GET';
    const rule = this.faults.find(
      (f) =>
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.pathRegex === undefined || f.pathRegex.test(ctx.path)) &&
        queryMatches(ctx.query, f.query),
    );
    if (rule && --rule.remaining <= 0) this.faults = this.faults.filter((f) => f !== rule);
    return rule;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        timer: setTimeout(() => sleeper.wake(), ms),
        wake: () => {
          this.sleepers.delete(sleeper);
          resolve();
        },
      };
      this.sleepers.add(sleeper);
    });
  }

  private authenticate(ctx: Ctx): void {
    const result = this.auth.authenticate(ctx.req);
    if ('unauthorized' in result) throw fail(401, 'Unauthorized');
    ctx.user = result.user;
    if (ctx.record) ctx.record.user = result.user.name;
  }

  private authorize(ctx: Ctx, route: ResourceRoute, verb: string): void {
    const a: RequestAttributes = {
      user: ctx.user as UserInfo,
      verb,
      apiGroup: route.resource.group,
      resource: route.resource.plural,
      subresource: route.subresource,
      namespace: route.namespace,
      name: route.name,
    };
    if (this.authorizer(a)) return;
    const details: JsonMap = { kind: route.resource.plural };
    if (route.name) details['name'] = route.name;
    if (route.resource.group) details['group'] = route.resource.group;
    throw fail(403, forbiddenMessage(a), 'Forbidden', details);
  }

  private route(ctx: Ctx): void {
    const resourceRoute = matchResourceRoute(ctx.segments);
    if (resourceRoute) return this.serveResource(ctx, resourceRoute);
    const user = ctx.user as UserInfo;
    if (!PUBLIC_PATHS.has(ctx.path) && !user.groups.includes('system:authenticated')) {
      throw fail(403, forbiddenPathMessage(user, (ctx.req.method ?? 'GET').toLowerCase(), ctx.path), 'Forbidden', {});
    }
    if (['healthz', 'livez', 'readyz'].includes(ctx.path.slice(1))) {
      if (ctx.record) ctx.record.status = 200;
      ctx.res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    const discovery = discoveryBody(ctx.segments, `127.0.0.1:${this.currentPort}`);
    if (discovery === undefined) throw pathNotFound();
    if (ctx.req.method !== 'GET') throw fail(405, `the server does not allow this method on the requested resource`);
    this.reply(ctx, 200, discovery);
  }

  private serveResource(ctx: Ctx, route: ResourceRoute): void {
    const method = ctx.req.method ?? 'GET';
    const collectionGet = isTrue(ctx.query['watch']) ? 'watch' : 'list';
    const verbs: Record<string, string> = { GET: route.name === undefined ? collectionGet : 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
    this.authorize(ctx, route, verbs[method] ?? method.toLowerCase());
    if (route.name === undefined) return this.serveCollection(ctx, route, method);
    if (route.subresource !== undefined && !(route.subresource === 'status' && route.resource.statusSubresource)) {
      throw pathNotFound();
    }
    const item = { resource: route.resource, namespace: route.namespace as string, name: route.name };
    switch (method) {
      case 'GET':
        return this.reply(ctx, 200, this.read(item));
      case 'PATCH':
        return this.reply(ctx, 200, this.update(item, route.subresource, (cur) => applyPatch(cur, ctx.contentType, ctx.raw)));
      case 'PUT':
        return this.reply(ctx, 200, this.update(item, route.subresource, () => this.replacement(item, ctx.raw)));
      case 'DELETE':
        if (route.subresource === undefined) return this.reply(ctx, 200, this.remove(item));
    }
    throw fail(405, `the server does not allow this method on the requested resource`);
  }

  private serveCollection(ctx: Ctx, route: ResourceRoute, method: string): void {
    if (method === 'GET' && isTrue(ctx.query['watch'])) return this.watch(ctx, route);
    if (method === 'GET') {
      const list = this.list(route, ctx.query);
      return this.reply(ctx, 200, wantsMetadataOnly(ctx.req, 'PartialObjectMetadataList') ? metadataOnlyList(list) : list);
    }
    if (method === 'POST' && route.namespace !== undefined) {
      return this.reply(ctx, 201, this.create(route.resource, route.namespace, parseJsonBody(ctx.raw)));
    }
    throw fail(405, `the server does not allow this method on the requested resource`);
  }

  // ---- resource operations

  private read(item: ItemRef): KubeObject {
    const found = this.store.get(item.resource, item.namespace, item.name);
    if (!found) throw notFound(item.resource, item.name);
    return found;
  }

  /**
   * A list, paged like etcd-backed kube-apiserver: `limit` cuts it, `continue` carries on from
   * the same snapshot (the first page's resourceVersion), and a continue token older than the
   * compacted history is 410 Expired.
   */
  private list(route: ResourceRoute, query: Record<string, string>): JsonMap {
    const matches = makeMatcher(route.resource, route.namespace, query);
    const limit = query['limit'] === undefined ? 0 : Number(query['limit']);
    if (!Number.isInteger(limit) || limit < 0) throw fail(400, `invalid limit: ${query['limit']}`);
    let rv = this.store.rvNumber;
    let after = '';
    let objects: Iterable<[string, KubeObject]> | undefined;
    if (query['continue']) {
      const token = decodeContinue(query['continue']);
      const snapshot = this.store.snapshotAt(route.resource, token.rv);
      if (!snapshot) throw fail(410, CONTINUE_EXPIRED, 'Expired');
      ({ rv, start: after } = token);
      objects = snapshot;
    }
    const keyed = [...(objects ?? this.store.list(route.resource).map((o): [string, KubeObject] => [`${o.metadata.namespace}/${o.metadata.name}`, o]))]
      .filter(([key, o]) => key > after && matches(o))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const page = limit > 0 ? keyed.slice(0, limit) : keyed;
    const metadata: JsonMap = { resourceVersion: String(rv) };
    if (page.length < keyed.length) {
      metadata['continue'] = encodeContinue(rv, page[page.length - 1]![0]);
      // The real server counts the rest only when no selector filters it.
      if (!query['fieldSelector'] && !query['labelSelector']) metadata['remainingItemCount'] = keyed.length - page.length;
    }
    return { kind: route.resource.listKind, apiVersion: apiVersionOf(route.resource), metadata, items: page.map(([, o]) => o) };
  }

  private create(resource: ResourceType, namespace: string, body: unknown): KubeObject {
    if (!isMap(body) || !isMap(body['metadata'])) throw fail(400, 'request body must be an object with metadata');
    const object = clone(body) as KubeObject;
    const meta = object.metadata;
    if (meta.namespace && meta.namespace !== namespace) {
      throw fail(400, 'the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = namespace;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomUUID().slice(0, 5);
    if (!meta.name) throw fail(422, `${resource.kind} is invalid: metadata.name: Required value`, 'Invalid');
    if (this.store.get(resource, namespace, meta.name)) {
      throw fail(409, `${qualifiedName(resource)} "${meta.name}" already exists`, 'AlreadyExists', resourceDetails(resource, meta.name));
    }
    for (const key of ['uid', 'resourceVersion', 'creationTimestamp'] as const) delete meta[key];
    return this.store.put(resource, object);
  }

  private replacement(item: ItemRef, raw: string): unknown {
    const body = parseJsonBody(raw);
    const name = isMap(body) && isMap(body['metadata']) ? body['metadata']['name'] : undefined;
    if (name !== item.name) {
      throw fail(400, `the name of the object (${String(name)}) does not match the name on the URL (${item.name})`);
    }
    return body;
  }

  /** Shared by PATCH and PUT: preconditions, subresource scoping, no-op detection. */
  private update(item: ItemRef, subresource: string | undefined, change: (cur: KubeObject) => unknown): KubeObject {
    const current = this.read(item);
    const candidate = change(clone(current));
    if (!isMap(candidate) || !isMap(candidate['metadata'])) throw fail(422, 'patched object must have metadata');
    const next = candidate as KubeObject;
    this.checkPreconditions(item, current, next);
    this.keepImmutableFields(item.resource, current, next, subresource);
    if (deepEqual(next, current)) return current;
    return this.store.put(item.resource, next);
  }

  private checkPreconditions(item: ItemRef, current: KubeObject, next: KubeObject): void {
    const rv = next.metadata.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) {
      throw conflict(item.resource, item.name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const uid = next.metadata.uid;
    if (uid && uid !== current.metadata.uid) {
      throw conflict(item.resource, item.name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`);
    }
  }

  /** Like the real registry: /status only changes status (and metadata), the main resource never changes status. */
  private keepImmutableFields(resource: ResourceType, current: KubeObject, next: KubeObject, subresource?: string): void {
    next.apiVersion = current.apiVersion;
    next.kind = current.kind;
    for (const key of ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp'] as const) {
      next.metadata[key] = current.metadata[key];
    }
    if (!resource.statusSubresource) return;
    const kept = subresource === 'status' ? 'spec' : 'status';
    if (current[kept] === undefined) delete next[kept];
    else next[kept] = current[kept];
  }

  private remove(item: ItemRef): KubeObject {
    const removed = this.store.remove(item.resource, item.namespace, item.name);
    if (!removed) throw notFound(item.resource, item.name);
    return removed;
  }

  // ---- watch

  private watch(ctx: Ctx, route: ResourceRoute): void {
    const { res, query } = ctx;
    const matches = makeMatcher(route.resource, route.namespace, query);
    const rv = query['resourceVersion'];
    const replay = rv === undefined || rv === '' || rv === '0' ? undefined : this.replayFrom(rv);
    if (ctx.record) ctx.record.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const metadataOnly = wantsMetadataOnly(ctx.req, 'PartialObjectMetadata');
    const send = (type: string, object: unknown): void => {
      const shown = metadataOnly && type !== 'ERROR' ? partialObjectMetadata(object as KubeObject) : object;
      if (!res.destroyed) res.write(JSON.stringify({ type, object: shown }) + '\n');
    };
    if (replay === 'expired') {
      send('ERROR', statusObject(410, `too old resource version: ${rv} (${this.store.resourceVersion})`, 'Expired'));
      res.end();
      return;
    }
    if (replay === undefined) {
      for (const obj of this.store.list(route.resource).filter(matches)) send('ADDED', obj);
      if (isTrue(query['sendInitialEvents']) && isTrue(query['allowWatchBookmarks'])) {
        send('BOOKMARK', this.bookmark(route.resource, { 'k8s.io/initial-events-end': 'true' }));
      }
    }
    const deliver = (event: StoreEvent): void => {
      const type = event.resource === route.resource ? viewOf(event, matches) : undefined;
      if (type) send(type, event.object);
    };
    for (const event of replay ?? []) deliver(event);
    this.store.listeners.add(deliver);
    this.openWatches.add(res);
    const timer = this.watchTimeout(ctx, route.resource);
    // kube-apiserver bookmarks a watch that asked for them about once a minute.
    const bookmarks = isTrue(query['allowWatchBookmarks']) ? setInterval(() => send('BOOKMARK', this.bookmark(route.resource)), this.bookmarkIntervalMs) : undefined;
    if (bookmarks) this.watchTimers.add(bookmarks);
    res.on('close', () => {
      this.store.listeners.delete(deliver);
      this.openWatches.delete(res);
      for (const t of [timer, bookmarks]) {
        if (!t) continue;
        clearTimeout(t);
        this.watchTimers.delete(t);
      }
    });
  }

  /** Ends every open watch cleanly, as an apiserver behind a load balancer does now and then. */
  closeWatches(): void {
    for (const res of this.openWatches) res.end();
  }

  private replayFrom(rv: string): StoreEvent[] | 'expired' {
    const since = Number(rv);
    if (!Number.isInteger(since)) throw fail(400, `invalid resource version: ${rv}`);
    return this.store.eventsSince(since) ?? 'expired';
  }

  private watchTimeout(ctx: Ctx, resource: ResourceType): NodeJS.Timeout | undefined {
    const seconds = Number(ctx.query['timeoutSeconds']);
    if (!(seconds > 0)) return undefined;
    const timer = setTimeout(() => {
      this.watchTimers.delete(timer);
      if (isTrue(ctx.query['allowWatchBookmarks']) && !ctx.res.destroyed) {
        ctx.res.write(JSON.stringify({ type: 'BOOKMARK', object: this.bookmark(resource) }) + '\n');
      }
      ctx.res.end();
    }, seconds * 1000);
    this.watchTimers.add(timer);
    return timer;
  }

  private bookmark(resource: ResourceType, annotations?: Record<string, string>): KubeObject {
    const metadata: ObjectMeta = { resourceVersion: this.store.resourceVersion };
    if (annotations) metadata.annotations = annotations;
    return { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata };
  }

  // ---- out-of-process control (/__fake/...), never logged or faulted

  private control(ctx: Ctx): void {
    const method = ctx.req.method ?? 'GET';
    const [, action, namespace, name] = ctx.segments;
    const ok = (body: unknown = {}): void => sendJson(ctx.res, 200, body);
    const key = `${method} ${action ?? ''}`;
    switch (key) {
      case 'GET requests':
        return ok(this.log);
      case 'GET count':
        return ok({ count: this.count(this.filterFromQuery(ctx.query)) });
      case 'POST reset':
        this.reset();
        return ok();
      case 'POST pods':
        return ok(this.asArray(parseJsonBody(ctx.raw)).map((p) => this.addPod(p as KubeObject)));
      case 'POST nads':
        return ok(this.asArray(parseJsonBody(ctx.raw)).map((n) => clone(this.store.put(NAD, nadObject(n as NadSpec)))));
      case 'GET pods':
      case 'GET nads':
      case 'DELETE pods':
      case 'DELETE nads':
        return this.controlItem(ctx, method, action === 'pods' ? POD : NAD, namespace ?? '', name ?? '');
      case 'POST fault':
        this.fault(parseJsonBody(ctx.raw) as FaultSpec);
        return ok();
      case 'POST clear-faults':
        this.clearFaults();
        return ok();
      case 'POST compact':
        this.compactHistory();
        return ok();
    }
    throw pathNotFound();
  }

  private controlItem(ctx: Ctx, method: string, resource: ResourceType, namespace: string, name: string): void {
    const found = method === 'GET' ? this.store.get(resource, namespace, name) : this.store.remove(resource, namespace, name);
    if (!found) throw notFound(resource, name);
    sendJson(ctx.res, 200, found);
  }

  private asArray(body: unknown): unknown[] {
    return Array.isArray(body) ? body : [body];
  }

  private filterFromQuery(query: Record<string, string>): RequestFilter {
    const { method, path, pathPrefix, pathRegex, status } = query;
    return { method, path, pathPrefix, pathRegex, status: status === undefined ? undefined : Number(status) };
  }
}

interface ItemRef {
  resource: ResourceType;
  namespace: string;
  name: string;
}

export async function startFakeApiServer(opts: StartOptions = {}): Promise<FakeApiServer> {
  const server = new FakeApiServerImpl(opts);
  await server.start();
  return server;
}

// ---------------------------------------------------------------- remote control client

/** Drives a fake server running in another process through its /__fake/ endpoints. */
export class FakeApiControl {
  /** `ca`: the PEM CA of an HTTPS server (main.ts prints it). */
  constructor(
    readonly url: string,
    readonly ca?: string,
  ) {}

  requests(): Promise<RequestRecord[]> {
    return this.call('GET', 'requests') as Promise<RequestRecord[]>;
  }

  async count(filter: { method?: string; path?: string; pathPrefix?: string; pathRegex?: string; status?: number } = {}): Promise<number> {
    const params = new URLSearchParams(
      Object.entries(filter).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])),
    );
    return ((await this.call('GET', `count?${params}`)) as { count: number }).count;
  }

  async reset(): Promise<void> {
    await this.call('POST', 'reset');
  }

  async addPods(...pods: KubeObject[]): Promise<KubeObject[]> {
    return (await this.call('POST', 'pods', pods)) as KubeObject[];
  }

  async addNads(...nads: NadSpec[]): Promise<KubeObject[]> {
    return (await this.call('POST', 'nads', nads)) as KubeObject[];
  }

  async getPod(namespace: string, name: string): Promise<KubeObject | undefined> {
    return (await this.call('GET', `pods/${namespace}/${name}`, undefined, true)) as KubeObject | undefined;
  }

  async deletePod(namespace: string, name: string): Promise<boolean> {
    return (await this.call('DELETE', `pods/${namespace}/${name}`, undefined, true)) !== undefined;
  }

  async fault(spec: Omit<FaultSpec, 'pathRegex'> & { pathRegex?: string }): Promise<void> {
    await this.call('POST', 'fault', spec);
  }

  async clearFaults(): Promise<void> {
    await this.call('POST', 'clear-faults');
  }

  private async call(method: string, path: string, body?: unknown, allowMissing = false): Promise<unknown> {
    const res = await rawRequest(`${this.url}/__fake/${path}`, {
      method,
      ca: this.ca,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (allowMissing && res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`fake API control ${method} ${path}: HTTP ${res.status} ${res.body}`);
    return JSON.parse(res.body);
  }
}
