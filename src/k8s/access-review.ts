// Who may read a secure /metrics endpoint, asked of the API server as kube-rbac-proxy
// and MetalLB (v0.16 and later, controller-runtime's metrics filter) ask it: a
// TokenReview says whose the bearer token is, then a SubjectAccessReview says whether
// that user may `get` the nonResourceURL /metrics. Prometheus' ServiceAccount needs a
// ClusterRole granting that (the chart's ferrolb-metrics-reader), and ferrolb's own
// ServiceAccount needs `create` on tokenreviews and subjectaccessreviews.
import type { KubeClient } from './client.ts';
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

/** The check for `get /metrics`: 401 without a valid token, 403 without the permission. */
export function metricsAuthorizer(client: KubeClient, path = '/metrics'): (token: string | undefined) => Promise<MetricsAccess> {
  return async (token) => {
    if (token === undefined) return { allowed: false, status: 401, reason: 'Unauthorized: a bearer token is required' };
    const review = await reviewToken(client, token);
    if (review.authenticated !== true || review.user?.username === undefined) return { allowed: false, status: 401, reason: `Unauthorized: ${review.error ?? 'the token is not valid'}` };
    const access = await reviewNonResourceAccess(client, review.user, path, 'get');
    if (!access.allowed) return { allowed: false, status: 403, reason: `Forbidden: user "${review.user.username}" may not get ${path}${access.reason ? ` (${access.reason})` : ''}` };
    return { allowed: true };
  };
}
