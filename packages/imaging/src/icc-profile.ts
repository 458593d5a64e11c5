/**
 * The description of an ICC profile (its `desc` tag: ICC v2 text description or v4
 * multi-localised Unicode), or null when the bytes are not a readable profile.
 */
export function iccDescription(icc: Buffer): string | null {
  if (icc.length < 132 || icc.toString('latin1', 36, 40) !== 'acsp') return null;
  const count = icc.readUInt32BE(128);
  for (let i = 0; i < count && 132 + i * 12 + 12 <= icc.length; i++) {
    const at = 132 + i * 12;
    if (icc.toString('latin1', at, at + 4) !== 'desc') continue;
    const offset = icc.readUInt32BE(at + 4);
    const size = icc.readUInt32BE(at + 8);
    if (offset + size > icc.length || size < 12) return null;
    const tag = icc.subarray(offset, offset + size);
    const type = tag.toString('latin1', 0, 4);
    if (type === 'desc') {
      const n = tag.readUInt32BE(8);
      return tag.toString('latin1', 12, Math.min(tag.length, 12 + n)).replace(/\0+$/, '');
    }
    if (type === 'mluc' && tag.length >= 28) {
      const len = tag.readUInt32BE(20);
      const start = tag.readUInt32BE(24);
      if (start + len > tag.length) return null;
      return tag.subarray(start, start + len).swap16().toString('utf16le');
    }
    return null;
  }
  return null;
}

/** Whether a profile describes sRGB (camera makers' variants included). */
export function isSrgbProfile(icc: Buffer): boolean {
  return /\bsRGB\b/i.test(iccDescription(Buffer.from(icc)) ?? '');
}
