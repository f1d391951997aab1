// The speakers authenticate their heartbeats with a shared key (HMAC, see
// src/speaker/membership). As MetalLB's controller does with --ml-secret-name, the
// controller creates that Secret with a random key when it is missing, so a fresh
// install needs no manual step; an existing Secret (a key you chose) is never touched.
import { randomBytes } from 'node:crypto';
import { apiFailure, type KubeClient } from '../k8s/client.ts';
import { logFields } from '../observability/errors.ts';
import { writeSecret } from '../k8s/operations.ts';
import { backoffDelay } from '../time/backoff.ts';
import { type Clock } from '../time/clock.ts';
import type { Logger } from '../observability/logging.ts';
import { MEMBERLIST_KEY } from '../api/metallb.ts';

/** Creates the Secret if missing; retries with backoff until done or `stopped()`. */
export async function ensureMemberlistSecret(client: KubeClient, namespace: string, name: string, clock: Clock, log: Logger, stopped: () => boolean): Promise<void> {
  for (let failures = 0; !stopped(); failures++) {
    try {
      const created = await writeSecret(client, namespace, name, { type: 'Opaque', data: { [MEMBERLIST_KEY]: randomBytes(128).toString('base64') } });
      // Not created: it exists, so leave it alone.
      if (created) log.info({ secret: `${namespace}/${name}` }, 'created the speakers\' memberlist key');
      return;
    } catch (err) {
      const delay = backoffDelay(failures);
      log.warn({ secret: `${namespace}/${name}`, ...logFields(apiFailure(err)), retryInMs: delay }, 'memberlist Secret not created; will retry');
      await new Promise<void>((resolve) => clock.setTimeout(resolve, delay));
    }
  }
}
