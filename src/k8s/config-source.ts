// The metallb.io configuration as the API server holds it: one watch per kind in the
// load balancer's namespace, built into a Config by the same pure code `ferrolb
// validate` runs. Shared by the controller and the speakers, so both read the
// configuration identically.
import type { KubeObject } from './client.ts';
import { WatchedResource, type WatchClient, type WatchOptions } from './informer.ts';
import type { Timer } from '../time/clock.ts';
import { buildConfig, type BuildResult } from '../config/build.ts';
import { objectDocuments } from '../config/documents.ts';
import { CONFIGURATION_KINDS, V1BETA1, V1BETA2, type MetalLBKind } from '../api/metallb.ts';
import { metallbPath } from './paths.ts';

/** Changes are gathered this long before one rebuild: `kubectl apply -f` of a file
 * with several resources arrives as several events within a few milliseconds. */
const DEBOUNCE_MS = 50;

export class ConfigSource {
  readonly #namespace: string;
  readonly #watch: WatchOptions;
  readonly #kinds = new Map<MetalLBKind, { apiVersion: string; resource: WatchedResource<KubeObject> }>();
  readonly #handlers: (() => void)[] = [];
  #timer: Timer | undefined;

  constructor(client: WatchClient, namespace: string, watch: WatchOptions) {
    this.#namespace = namespace;
    this.#watch = watch;
    for (const kind of CONFIGURATION_KINDS) {
      // BGPPeer is stored as v1beta2; every other kind has only v1beta1.
      const apiVersion = kind === 'BGPPeer' ? V1BETA2 : V1BETA1;
      const resource = new WatchedResource<KubeObject>(client, metallbPath(kind, namespace), watch);
      resource.onChange(() => this.#schedule());
      this.#kinds.set(kind, { apiVersion, resource });
    }
  }

  get resources(): WatchedResource<KubeObject>[] {
    return [...this.#kinds.values()].map((k) => k.resource);
  }

  /** Called (debounced) after any configuration object changes. */
  onChange(handler: () => void): void {
    this.#handlers.push(handler);
  }

  start(): void {
    for (const r of this.resources) r.start();
  }

  stop(): void {
    this.#timer?.cancel();
    for (const r of this.resources) r.stop();
  }

  get synced(): Promise<unknown> {
    return Promise.all(this.resources.map((r) => r.synced));
  }

  /** Every configuration object as it stands now, with apiVersion and kind set. */
  objects(): KubeObject[] {
    // List items may lack apiVersion and kind: the watched path says what they are.
    return [...this.#kinds].flatMap(([kind, { apiVersion, resource }]) => resource.list().map((obj) => ({ ...obj, apiVersion, kind })));
  }

  /** The configuration as it stands now (its errors, when invalid). */
  build(): BuildResult {
    return buildConfig(objectDocuments(this.objects()), { namespace: this.#namespace });
  }

  #schedule(): void {
    this.#timer?.cancel();
    this.#timer = this.#watch.clock.setTimeout(() => {
      for (const h of this.#handlers) h();
    }, DEBOUNCE_MS);
  }
}
