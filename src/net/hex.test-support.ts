// Codec fixtures of every protocol (ARP, NDP, BGP, BFD) are written as hex, field by
// field, from the RFCs' figures, so the codecs are checked against the RFCs and not
// against their own encoders.

/** Joins hex fields (spaces allowed) into bytes; every field is commented at its use. */
export function hex(...fields: string[]): Buffer {
  const text = fields.join('').replaceAll(' ', '');
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error(`bad fixture hex: ${text}`);
  return Buffer.from(text, 'hex');
}
