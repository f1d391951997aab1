// Go duration strings, as metav1.Duration carries them ("90s", "1m30s", "1.5h").
// Parsed exactly as Go's time.ParseDuration: an optional sign, then one or more
// decimal numbers each with a unit (ns, us, µs, ms, s, m, h); "0" alone needs no unit.

const NANOS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const INT64_MAX = (1n << 63n) - 1n;

/** Nanoseconds, or the reason the text is not a Go duration. */
export function parseGoDuration(text: string): { nanos: bigint } | { reason: string } {
  const bad = { reason: `"${text}" is not a duration (write it as Go does: "90s", "1m30s", "500ms")` };
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return { nanos: 0n };
  if (s === '') return bad;
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = m?.[1] ?? '';
    const frac = m?.[2] ?? '';
    if (whole === '' && frac === '') return bad;
    s = s.slice(m?.[0].length ?? 0);
    const unitMatch = /^[^\d.]+/.exec(s);
    if (!unitMatch) {
      return s === '' ? { reason: `"${text}" has a number without a unit (write "${text}s" for seconds)` } : bad;
    }
    const unit = unitMatch[0];
    const scale = NANOS_PER_UNIT[unit];
    if (scale === undefined) return { reason: `"${text}" has an unknown unit "${unit}" (use ns, us, ms, s, m or h)` };
    s = s.slice(unit.length);
    let value = BigInt(whole === '' ? '0' : whole) * scale;
    if (frac !== '') {
      // Go truncates sub-nanosecond fractions.
      value += (BigInt(frac) * scale) / 10n ** BigInt(frac.length);
    }
    total += value;
    if (total > INT64_MAX) return { reason: `"${text}" is out of range` };
  }
  return { nanos: negative ? -total : total };
}

export const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * A whole number of seconds as Go's Duration.String() writes it ("30s", "1m30s",
 * "2m0s", "1h0m0s", "0s"): how metav1.Duration fields come out of MetalLB's tools.
 */
export function formatGoSeconds(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(seconds);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/**
 * A duration written as a bare number (`keepaliveTime: 90`): YAML reads it as a number,
 * which a Go duration field refuses; the fix is almost always the unit.
 */
export function durationNumberHint(value: number): string {
  return `${value} is a number, not a duration: write "${value}s" for ${value} seconds (Go durations carry a unit: "90s", "1m30s")`;
}
