// The agent's log (stdout, which `lab up` sends to logs/agent.log) and its rule for
// failures: one object's failure (a conflict, a refused write) must not stop the agent
// from reconciling every other object, so each object is attempted on its own and
// retried next tick; repeated failures are logged once, then every 25th time.

export function log(msg: string): void {
  console.log(`${new Date().toISOString()} ${msg}`);
}

/** Counts failures by what failed; the first and every 25th are logged. */
export class Failures {
  readonly #counts = new Map<string, number>();

  /** Counts one failure of `what`; its number when this one is to be logged. */
  count(what: string): number | undefined {
    const n = (this.#counts.get(what) ?? 0) + 1;
    this.#counts.set(what, n);
    return n === 1 || n % 25 === 0 ? n : undefined;
  }

  clear(what: string): void {
    this.#counts.delete(what);
  }
}

export type Attempt = (what: string, fn: () => Promise<void>) => Promise<void>;

/** Runs each `fn` on its own: a failure is logged (as above), never thrown. */
export function attempts(): Attempt {
  const failures = new Failures();
  return async (what, fn) => {
    try {
      await fn();
      failures.clear(what);
    } catch (err) {
      const n = failures.count(what);
      if (n !== undefined) log(`${what}: ${(err as Error).message} (attempt ${n})`);
    }
  };
}
