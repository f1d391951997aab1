// Structured JSON logs (pino) on stderr, one object per line, so `kubectl logs` output
// can be filtered with jq.
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

export const LOG_LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export function createLogger(component: string, level: string): Logger {
  if (!LOG_LEVELS.includes(level as Level)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${level}"`);
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}
