/** Video containers Spotter accepts, recognised by their first bytes (never by a file name). */
export type VideoContainer = 'mp4' | 'matroska' | 'avi' | 'mpegts' | 'mpeg' | 'flv' | 'ogg' | 'asf';

/** Bytes `sniffVideo` needs to see. */
export const SNIFF_BYTES = 400;

const ascii = (b: Uint8Array, at: number, s: string) => [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
const ASF = [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11];

/** The container of a file from its first bytes, or null when it is none Spotter reads. */
export function sniffVideo(b: Uint8Array): VideoContainer | null {
  if (b.length < 12) return null;
  // ISO BMFF (MP4, MOV, 3GP): a box size, then its type; QuickTime files may open with other boxes.
  if (['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip'].some((t) => ascii(b, 4, t))) return 'mp4';
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'matroska';
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'AVI ')) return 'avi';
  // Transport stream: a sync byte every 188 bytes (192 with the M2TS time code in front).
  if (b.length >= 377 && b[0] === 0x47 && b[188] === 0x47 && b[376] === 0x47) return 'mpegts';
  if (b.length >= 389 && b[4] === 0x47 && b[196] === 0x47 && b[388] === 0x47) return 'mpegts';
  if (b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0xba) return 'mpeg';
  if (ascii(b, 0, 'FLV') && b[3] === 1) return 'flv';
  if (ascii(b, 0, 'OggS')) return 'ogg';
  if (ASF.every((v, i) => b[i] === v)) return 'asf';
  return null;
}
