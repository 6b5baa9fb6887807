// Authentication and authorization as kube-apiserver does them: a request is authenticated by a
// verified client certificate (CN = user, O = groups) or a known bearer token; presenting
// credentials that fail is 401; presenting none makes it system:anonymous (anonymous auth is on
// by default), whom the default RBAC lets read only /version and the health endpoints. An
// authorizer then decides each resource request; a denial is 403 with the real message shape.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface UserInfo {
  name: string;
  groups: string[];
}

/** What kube-apiserver's authorizers are asked (the fields of a SubjectAccessReview). */
export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}

export type Authorizer = (a: RequestAttributes) => boolean;

/** The ServiceAccount braid's manifests create: who a default token authenticates as. */
export const BRAID_SA: UserInfo = {
  name: 'system:serviceaccount:kube-system:braid',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
};

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Non-resource paths the default system:public-info-viewer role opens to everyone. */
export const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

export type AuthResult = { user: UserInfo } | { unauthorized: true };

export class Authenticator {
  private readonly tokens = new Map<string, UserInfo>();
  anonymous = true;

  addToken(token: string, user: UserInfo = BRAID_SA): void {
    this.tokens.set(token, user);
  }

  revokeToken(token: string): boolean {
    return this.tokens.delete(token);
  }

  get tokenList(): string[] {
    return [...this.tokens.keys()];
  }

  authenticate(req: IncomingMessage): AuthResult {
    const socket = req.socket as TLSSocket;
    const header = req.headers.authorization;
    let presented = header !== undefined;
    if (typeof socket.getPeerCertificate === 'function') {
      const peer = socket.getPeerCertificate();
      if (peer && Object.keys(peer).length > 0) {
        presented = true;
        // Node gives a repeated field (several O) as an array.
        const cn = ([] as string[]).concat(peer.subject?.CN ?? [])[0];
        if (socket.authorized && cn) {
          const orgs = ([] as string[]).concat(peer.subject.O ?? []);
          return { user: { name: cn, groups: [...orgs, 'system:authenticated'] } };
        }
      }
    }
    const m = header === undefined ? null : /^bearer\s+(\S+)\s*$/i.exec(header);
    const user = m ? this.tokens.get(m[1]!) : undefined;
    if (user) return { user };
    if (!presented && this.anonymous) return { user: ANONYMOUS };
    return { unauthorized: true };
  }
}

/** Allow every authenticated user everything (a cluster-admin world), anonymous nothing. */
export const allowAuthenticated: Authorizer = (a) => a.user.groups.includes('system:authenticated');

/**
 * kube-apiserver's Forbidden message, e.g.
 * `pods "p" is forbidden: User "u" cannot patch resource "pods/status" in API group "" in the namespace "ns"`.
 */
export function forbiddenMessage(a: RequestAttributes): string {
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const what = a.name ? `${qualified} "${a.name}"` : qualified;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${what} is forbidden: User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
}

/** forbiddenMessage for a path outside the resource API (discovery, /metrics). */
export const forbiddenPathMessage = (user: UserInfo, verb: string, path: string): string =>
  `forbidden: User "${user.name}" cannot ${verb} path "${path}"`;
