// What the long-running commands (controller, speaker) share: logger, API client and
// a clean shutdown on SIGTERM/SIGINT.
import { KubeClient } from '../k8s/client.ts';
import { createLogger, type Logger } from '../observability/logging.ts';
import { UsageError, type CommandIO } from './io.ts';

export function daemonLogger(component: string, level: string | undefined): Logger {
  try {
    return createLogger(component, level ?? 'info');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The API client from --kubeconfig, or in-cluster; undefined (reported) if neither works. */
export function daemonClient(command: string, kubeconfig: string | undefined, io: CommandIO): KubeClient | undefined {
  try {
    return KubeClient.load(kubeconfig);
  } catch (err) {
    io.stderr(`ferrolb ${command}: cannot load kubeconfig${kubeconfig ? ` ${kubeconfig}` : ''}: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** Resolves on the first SIGTERM or SIGINT; keeps the process alive until then. */
export function untilSignal(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = (signal: string) => {
      clearInterval(keepAlive);
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
