// Runtime failures as data with stable codes, as configuration errors are
// (src/config/errors.ts): a log line, a metric label and `doctor` name a failure by its
// code, so what to look at does not depend on the wording of a message. The codes are
// part of ferrolb's interface: add new ones, never rename one (docs/METRICS.md
// "Runtime error codes").

export type RuntimeErrorCode =
  // The API server (src/k8s).
  | 'EAPIREFUSED' // it answered with an error status: a write or read refused (403 while RBAC propagates, 409, 422, 5xx)
  | 'EAPIUNREACHABLE' // no answer: connection refused, reset, timed out, or a name that does not resolve
  // BGP sessions (src/speaker/bgp).
  | 'EBGPCONNECTION' // the TCP connection failed, timed out, or the peer closed it
  | 'EBGPRECEIVED' // the peer sent a NOTIFICATION
  | 'EBGPSENT' // we sent a NOTIFICATION: a malformed message, a wrong AS, the hold timer, BFD down
  | 'EBGPENCODE' // a message the wire cannot carry (a bad router ID, say): a configuration problem
  // A secure metrics endpoint's TLS files (--metrics-cert-dir): the process refuses to start.
  | 'ETLSCERT' // the certificate file is missing, unreadable or not a PEM certificate
  | 'ETLSKEY' // the key file is missing, unreadable, not a PEM private key, or not the certificate's key
  // Anything else: a bug in ferrolb, reported rather than thrown.
  | 'EINTERNAL';

export interface RuntimeError {
  readonly code: RuntimeErrorCode;
  /** The reason in words, for people; tests and dashboards use the code. */
  readonly message: string;
  /** For EAPIREFUSED: the HTTP status and the Status reason (`Conflict`, `Forbidden`, ...). */
  readonly status?: number;
  readonly reason?: string;
}

const CODES: Record<RuntimeErrorCode, true> = {
  EAPIREFUSED: true,
  EAPIUNREACHABLE: true,
  EBGPCONNECTION: true,
  EBGPRECEIVED: true,
  EBGPSENT: true,
  EBGPENCODE: true,
  ETLSCERT: true,
  ETLSKEY: true,
  EINTERNAL: true,
};

/**
 * For people, where no structured field exists (an Event's message): `CODE: message`,
 * with what failed said first when given (`CODE: the assignment was not written: ...`).
 */
export function formatRuntimeError(e: RuntimeError, what?: string): string {
  return `${e.code}: ${what !== undefined ? `${what}: ` : ''}${e.message}`;
}

/** The code a text made by formatRuntimeError starts with; undefined for any other text. */
export function runtimeErrorCode(text: string): RuntimeErrorCode | undefined {
  const code = /^(E[A-Z]+): /.exec(text)?.[1];
  return code !== undefined && Object.hasOwn(CODES, code) ? (code as RuntimeErrorCode) : undefined;
}

/** For a log line: `{ code, err }`, plus the status when there is one. */
export function logFields(e: RuntimeError): Record<string, unknown> {
  return { code: e.code, err: e.message, ...(e.status !== undefined ? { status: e.status, reason: e.reason } : {}) };
}
