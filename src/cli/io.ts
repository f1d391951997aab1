// What a command may touch of the outside world, injected so commands run in tests
// without spawning processes.
export interface CommandIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  /** Standard input, for `-f -`; process.stdin when absent. */
  readonly stdin?: () => Promise<Uint8Array>;
}

/** A command's outcome: the process exit code. */
export type ExitCode = number;

export type Command = {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly run: (args: readonly string[], io: CommandIO) => Promise<ExitCode>;
};

/** A usage mistake: reported as one line plus the command's usage, exit 2. */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
}
