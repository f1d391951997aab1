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

/** For a log line: `{ code, err }`, plus the status when there is one. */
export function logFields(e: RuntimeError): Record<string, unknown> {
  return { code: e.code, err: e.message, ...(e.status !== undefined ? { status: e.status, reason: e.reason } : {}) };
}
