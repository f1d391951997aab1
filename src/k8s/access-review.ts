// Who may read a secure /metrics endpoint, asked of the API server as kube-rbac-proxy
// and MetalLB (v0.16 and later, controller-runtime's metrics filter) ask it: a
// TokenReview says whose the bearer token is, then a SubjectAccessReview says whether
// that user may `get` the nonResourceURL /metrics. Prometheus' ServiceAccount needs a
// ClusterRole granting that (the chart's ferrolb-metrics-reader), and ferrolb's own
// ServiceAccount needs `create` on tokenreviews and subjectaccessreviews.
import { createHash } from 'node:crypto';
import type { KubeClient } from './client.ts';
import type { Clock } from '../time/clock.ts';
import { REVIEW } from './paths.ts';
import type { MetricsAccess } from '../observability/metrics.ts';

interface TokenReviewStatus {
  readonly authenticated?: boolean;
  readonly error?: string;
  readonly user?: { readonly username?: string; readonly uid?: string; readonly groups?: readonly string[]; readonly extra?: Readonly<Record<string, readonly string[]>> };
}

/** TokenReview (authentication.k8s.io/v1): the token's user, or why it has none. */
export async function reviewToken(client: KubeClient, token: string): Promise<TokenReviewStatus> {
  const answer = await client.create<{ status?: TokenReviewStatus }>(REVIEW.tokenReviews, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
  return answer.status ?? {};
}

/** SubjectAccessReview (authorization.k8s.io/v1) for a non-resource path and verb. */
export async function reviewNonResourceAccess(client: KubeClient, user: NonNullable<TokenReviewStatus['user']>, path: string, verb: string): Promise<{ allowed: boolean; reason?: string }> {
  const spec = {
    nonResourceAttributes: { path, verb },
    user: user.username,
    ...(user.uid !== undefined ? { uid: user.uid } : {}),
    ...(user.groups !== undefined ? { groups: user.groups } : {}),
    ...(user.extra !== undefined ? { extra: user.extra } : {}),
  };
  const answer = await client.create<{ status?: { allowed?: boolean; reason?: string } }>(REVIEW.subjectAccessReviews, { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
  return { allowed: answer.status?.allowed === true, ...(answer.status?.reason ? { reason: answer.status.reason } : {}) };
}

/**
 * How long an answer is reused for the same token, ms: Prometheus scrapes every speaker
 * every 15-60 s, and two reviews per scrape and node would be most of the API server's
 * load from ferrolb. An allowed answer is kept a minute (a revoked grant or token is
 * honoured within it), a refusal 10 s (a grant just given works soon); an API server that
 * did not answer is asked again next time. controller-runtime's metrics filter and
 * kube-rbac-proxy cache the same two reviews, for minutes.
 */
export const ALLOWED_TTL_MS = 60_000;
export const DENIED_TTL_MS = 10_000;
/** Distinct tokens remembered; past this the memory is dropped (Prometheus uses one or two). */
const MAX_TOKENS = 64;

/** The check for `get /metrics`: 401 without a valid token, 403 without the permission. */
export function metricsAuthorizer(client: KubeClient, clock: Clock, path = '/metrics'): (token: string | undefined) => Promise<MetricsAccess> {
  const remembered = new Map<string, { access: MetricsAccess; until: number }>();
  const review = async (token: string): Promise<MetricsAccess> => {
    const status = await reviewToken(client, token);
    if (status.authenticated !== true || status.user?.username === undefined) return { allowed: false, status: 401, reason: `Unauthorized: ${status.error ?? 'the token is not valid'}` };
    const access = await reviewNonResourceAccess(client, status.user, path, 'get');
    if (!access.allowed) return { allowed: false, status: 403, reason: `Forbidden: user "${status.user.username}" may not get ${path}${access.reason ? ` (${access.reason})` : ''}` };
    return { allowed: true };
  };
  return async (token) => {
    if (token === undefined) return { allowed: false, status: 401, reason: 'Unauthorized: a bearer token is required' };
    // Keyed by a digest: the tokens themselves are not kept.
    const key = createHash('sha256').update(token).digest('base64');
    const now = clock.now();
    const known = remembered.get(key);
    if (known !== undefined && known.until > now) return known.access;
    const access = await review(token);
    if (remembered.size >= MAX_TOKENS) remembered.clear();
    remembered.set(key, { access, until: now + (access.allowed ? ALLOWED_TTL_MS : DENIED_TTL_MS) });
    return access;
  };
}
