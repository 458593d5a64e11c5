import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { DATASET } from './spotter.js';

export const datasetImage = (name = '000000000139.jpg') => readFile(path.join(DATASET, 'images', name));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf: Buffer) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type: string, data: Buffer) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};

/** A well-formed PNG whose header claims `width` x `height` (a decompression bomb's shape). */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG with a sound header and trailer whose pixel data is corrupt: passes the API, fails decoding. */
export async function corruptPng(): Promise<Buffer> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  const idat = png.indexOf(Buffer.from('IDAT', 'latin1'));
  const out = Buffer.from(png);
  for (let i = idat + 8; i < idat + 40; i++) out[i] = 0xff;
  return out;
}

/** The first `fraction` of a JPEG, as an interrupted upload leaves it. */
export async function truncatedJpeg(fraction = 0.5): Promise<Buffer> {
  const jpeg = await datasetImage();
  return jpeg.subarray(0, Math.floor(jpeg.length * fraction));
}
