// ConfigurationState objects (metallb.io/v1beta1): whether a component's view of the
// configuration is valid, the error when it is not, and its warnings (a condition of
// type Warnings: references to objects not created yet, fields not acted on; issue 14
// "never silence"), and for a speaker the peers it does not hear (a condition of type
// MembersReachable, src/speaker/membership/reachability.ts). The controller writes
// `controller`, each speaker `speaker-<node>` (MetalLB's names), so
// `kubectl get configurationstates -n metallb-system` shows every component's verdict.
//
// Best effort: a failed write is retried with backoff; only the newest verdict is
// written, and writing the same verdict twice is skipped.
import type { KubeClient } from './client.ts';
import { apiFailure } from './client.ts';
import { createStatusObject, getStatusObject, patchObjectStatus } from './operations.ts';
import { logFields } from '../observability/errors.ts';
import { backoffDelay } from '../time/backoff.ts';
import { type Clock, type Timer } from '../time/clock.ts';
import type { Logger } from '../observability/logging.ts';

export type ConfigResult = 'Valid' | 'Invalid';

/** The condition a speaker's membership view is reported in. */
export const MEMBERS_REACHABLE = 'MembersReachable';

/** The API server's limit on a condition message. */
const MAX_MESSAGE = 32_768;

export class ConfigurationStateWriter {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  #wanted: { result: ConfigResult; lastError: string; warnings: string } | undefined;
  /** For a speaker: the peers it does not hear, formatted (undefined: not reported). */
  #unreachable: string | undefined;
  #written = '';
  #writtenVerdict = '';
  #running = false;
  #retry: Timer | undefined;
  #failures = 0;
  #stopped = false;

  constructor(client: KubeClient, namespace: string, name: string, clock: Clock, log: Logger) {
    this.#client = client;
    this.#namespace = namespace;
    this.#name = name;
    this.#clock = clock;
    this.#log = log;
  }

  /** `warnings`: the configuration's warnings, one line each joined by '; ' ('' = none). */
  set(result: ConfigResult, lastError: string, warnings = ''): void {
    this.#wanted = { result, lastError, warnings };
    void this.#write();
  }

  /**
   * A speaker's membership view: the peers it does not hear ('' = it hears them all),
   * formatted by formatUnreachable. Written with the next verdict, or now if there is one.
   */
  setUnreachable(message: string): void {
    this.#unreachable = message;
    void this.#write();
  }

  stop(): void {
    this.#stopped = true;
    this.#retry?.cancel();
  }

  async #write(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    try {
      for (;;) {
        const wanted = this.#wanted;
        if (!wanted) return;
        const unreachable = this.#unreachable;
        const verdict = `${wanted.result}|${wanted.lastError}|${wanted.warnings}`;
        const key = `${verdict}|${unreachable ?? '-'}`;
        if (key === this.#written) return;
        // Only a new verdict creates the object. A membership report alone updates it if
        // it exists and otherwise lets it be: while ferrolb is being removed, the
        // speakers still running see their peers leave, and must not bring back what the
        // removal deleted (src/controller/removal.ts).
        await this.#put(wanted.result, wanted.lastError, wanted.warnings, unreachable, verdict !== this.#writtenVerdict);
        this.#writtenVerdict = verdict;
        this.#written = key;
        this.#failures = 0;
      }
    } catch (err) {
      const delay = backoffDelay(this.#failures++);
      this.#log.warn({ name: this.#name, ...logFields(apiFailure(err)), retryInMs: delay }, 'ConfigurationState not written; will retry');
      this.#retry?.cancel();
      this.#retry = this.#clock.setTimeout(() => void this.#write(), delay);
    } finally {
      this.#running = false;
    }
  }

  async #put(result: ConfigResult, lastError: string, warnings: string, unreachable: string | undefined, create: boolean): Promise<void> {
    if (!(await getStatusObject(this.#client, 'ConfigurationState', this.#namespace, this.#name))) {
      if (!create) return;
      await createStatusObject(this.#client, 'ConfigurationState', this.#namespace, { name: this.#name });
    }
    const now = new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const valid = result === 'Valid';
    await patchObjectStatus(this.#client, 'ConfigurationState', this.#namespace, this.#name, {
      result,
      lastError,
      conditions: [
        { type: 'Valid', status: valid ? 'True' : 'False', reason: valid ? 'ConfigurationValid' : 'ConfigurationInvalid', message: lastError.slice(0, MAX_MESSAGE), lastTransitionTime: now },
        { type: 'Warnings', status: warnings ? 'True' : 'False', reason: warnings ? 'ConfigurationWarnings' : 'NoWarnings', message: warnings.slice(0, MAX_MESSAGE), lastTransitionTime: now },
        ...(unreachable !== undefined
          ? [{ type: MEMBERS_REACHABLE, status: unreachable ? 'False' : 'True', reason: unreachable ? 'MembersUnreachable' : 'AllMembersReachable', message: unreachable.slice(0, MAX_MESSAGE), lastTransitionTime: now }]
          : []),
      ],
    });
  }
}
