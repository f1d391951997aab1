// Structured JSON logs on stderr, one object per line, so `kubectl logs` output can be
// filtered with jq. The line's shape is pino's (numeric `level`, ISO `time`, the bindings,
// the call's fields, then `msg`), which log pipelines already parse; ferrolb writes it
// itself because pino's module graph was the largest single cost in a speaker's resident
// memory (about 4 MB, docs/BENCHMARKS.md "What importing costs") for the four calls used.
import { writeSync } from 'node:fs';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** pino's numbers for the levels, so `jq 'select(.level >= 40)'` keeps working. */
const LEVEL_NUMBER: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export type LogFields = Record<string, unknown>;
type LogCall = (fieldsOrMessage: LogFields | string, message?: string) => void;

export interface Logger {
  readonly fatal: LogCall;
  readonly error: LogCall;
  readonly warn: LogCall;
  readonly info: LogCall;
  readonly debug: LogCall;
  readonly trace: LogCall;
  /** A logger whose lines also carry `bindings` (a BGP session's peer, say). */
  child(bindings: LogFields): Logger;
}

/** Where finished lines go: stderr, synchronously (a crash loses no line). */
export type LogSink = (line: string) => void;

export function createLogger(component: string, level: string, sink: LogSink = writeStderr): Logger {
  if (!LOG_LEVELS.includes(level as LogLevel)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${level}"`);
  return makeLogger(LEVEL_NUMBER[level as LogLevel], { component }, sink);
}

/** A logger that writes nothing (tests that do not read logs). */
export const silentLogger: Logger = makeLogger(Infinity, {}, () => {});

function makeLogger(threshold: number, bindings: LogFields, sink: LogSink): Logger {
  const prefix = serialise(bindings).slice(1, -1);
  const call = (level: LogLevel): LogCall => {
    const n = LEVEL_NUMBER[level];
    if (n < threshold) return () => {};
    return (fieldsOrMessage, message) => sink(formatLine(n, prefix, fieldsOrMessage, message));
  };
  return {
    fatal: call('fatal'),
    error: call('error'),
    warn: call('warn'),
    info: call('info'),
    debug: call('debug'),
    trace: call('trace'),
    child: (more) => makeLogger(threshold, { ...bindings, ...more }, sink),
  };
}

function formatLine(level: number, prefix: string, fieldsOrMessage: LogFields | string, message: string | undefined): string {
  const fields = typeof fieldsOrMessage === 'string' ? {} : fieldsOrMessage;
  const msg = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message;
  const body = serialise(fields).slice(1, -1);
  const parts = [`"level":${level}`, `"time":"${new Date().toISOString()}"`];
  if (prefix) parts.push(prefix);
  if (body) parts.push(body);
  if (msg !== undefined) parts.push(`"msg":${JSON.stringify(msg)}`);
  return `{${parts.join(',')}}\n`;
}

/**
 * JSON for a fields object that never throws: an Error becomes { type, message, stack }
 * (pino's err serialiser shape), a bigint its decimal string, and an object that cannot
 * be written (a cycle) says so instead of losing the line.
 */
function serialise(fields: LogFields): string {
  try {
    return JSON.stringify(fields, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
      return value;
    });
  } catch (err) {
    return JSON.stringify({ logFieldsUnwritable: (err as Error).message, keys: Object.keys(fields) });
  }
}

/**
 * Writes the whole line to fd 2. A non-blocking stderr (a pipe another module switched)
 * answers EAGAIN when full; retry briefly rather than drop, as a sync logger must.
 */
function writeStderr(line: string): void {
  let buf = Buffer.from(line);
  for (let attempt = 0; buf.length > 0 && attempt < 1000; ) {
    try {
      buf = buf.subarray(writeSync(2, buf));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      attempt++;
      Atomics.wait(EAGAIN_WAIT, 0, 0, 1);
    }
  }
}
const EAGAIN_WAIT = new Int32Array(new SharedArrayBuffer(4));
