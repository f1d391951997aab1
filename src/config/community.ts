// BGP community values as MetalLB writes them: `a:b` (RFC 1997, two 16-bit halves) and
// `large:a:b:c` (RFC 8092, three 32-bit parts).
import type { BGPCommunity } from './model.ts';

export type CommunityParse =
  | { readonly community: BGPCommunity }
  /** `looksLikeValue`: written as a community value, not as an alias name. */
  | { readonly reason: string; readonly looksLikeValue: boolean };

const U16 = 0xffff;
const U32 = 0xffffffff;

export function parseCommunity(text: string): CommunityParse {
  const large = /^large:(\d+):(\d+):(\d+)$/.exec(text);
  if (large) {
    const parts = large.slice(1, 4).map(Number);
    const bad = parts.findIndex((p) => !(p <= U32));
    if (bad >= 0) {
      return { reason: `large community "${text}": part ${bad + 1} exceeds ${U32} (each part is 32 bits, RFC 8092)`, looksLikeValue: true };
    }
    const [globalAdmin = 0, localData1 = 0, localData2 = 0] = parts;
    return { community: { kind: 'large', globalAdmin, localData1, localData2 } };
  }
  const standard = /^(\d+):(\d+)$/.exec(text);
  if (standard) {
    const high = Number(standard[1]);
    const low = Number(standard[2]);
    if (!(high <= U16) || !(low <= U16)) {
      return { reason: `community "${text}": each half must be 0..65535 (RFC 1997 communities are two 16-bit values)`, looksLikeValue: true };
    }
    return { community: { kind: 'standard', value: high * 0x10000 + low } };
  }
  const looksLikeValue = text.startsWith('large:') || /^[\d:]+$/.test(text);
  return {
    reason: looksLikeValue
      ? `"${text}" is not a community value (write a:b or large:a:b:c)`
      : `"${text}" is neither a community value (a:b, large:a:b:c) nor a known Community alias`,
    looksLikeValue,
  };
}

export function formatCommunity(c: BGPCommunity): string {
  return c.kind === 'standard'
    ? `${Math.floor(c.value / 0x10000)}:${c.value % 0x10000}`
    : `large:${c.globalAdmin}:${c.localData1}:${c.localData2}`;
}
