import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpegHeader, pngHeader } from './header.js';
import { walkJpeg } from './sniff.js';

const IMAGES = path.resolve(import.meta.dirname, '../../../../shared/datasets/coco-val128/images');
const jpeg = (buf: Buffer) => jpegHeader(buf, walkJpeg(buf).segments);

describe('headers read in JavaScript', () => {
  it('agree with libvips on every dataset picture', async () => {
    for (const f of await readdir(IMAGES)) {
      const buf = await readFile(path.join(IMAGES, f));
      const meta = await sharp(buf).metadata();
      expect(jpeg(buf), f).toEqual({ width: meta.width, height: meta.height, orientation: meta.orientation ?? 1 });
    }
  });

  it('read EXIF orientation in both byte orders, and PNG sizes; leave PNG EXIF and DNL heights to libvips', async () => {
    const base = sharp({ create: { width: 40, height: 20, channels: 3, background: '#123' } });
    for (const orientation of [1, 3, 6, 8]) {
      const buf = await base.clone().withMetadata({ orientation }).jpeg().toBuffer();
      expect(jpeg(buf)).toEqual({ width: 40, height: 20, orientation });
      // The same EXIF block written big-endian.
      const exif = buf.indexOf('Exif\0\0II', 0, 'latin1');
      expect(exif).toBeGreaterThan(0);
      const tiff = exif + 6;
      const be = Buffer.from(buf);
      be.write('MM', tiff, 'latin1');
      be.writeUInt16BE(42, tiff + 2);
      const ifd = buf.readUInt32LE(tiff + 4);
      be.writeUInt32BE(ifd, tiff + 4);
      const count = buf.readUInt16LE(tiff + ifd);
      be.writeUInt16BE(count, tiff + ifd);
      for (let k = 0; k < count; k++) {
        const at = tiff + ifd + 2 + k * 12;
        be.writeUInt16BE(buf.readUInt16LE(at), at);
        be.writeUInt16BE(buf.readUInt16LE(at + 2), at + 2);
        be.writeUInt32BE(buf.readUInt32LE(at + 4), at + 4);
        if (buf.readUInt16LE(at) === 0x0112) be.writeUInt16BE(buf.readUInt16LE(at + 8), at + 8);
      }
      expect(jpeg(be)?.orientation).toBe(orientation);
    }
    const png = await base.clone().png().toBuffer();
    expect(pngHeader(png)).toEqual({ width: 40, height: 20, orientation: 1 });
    expect(pngHeader(await base.clone().withMetadata({ orientation: 6 }).png().toBuffer())).toBeNull();
    const noHeight = Buffer.from(await base.clone().jpeg().toBuffer());
    const sof = walkJpeg(noHeight).segments.find((s) => s.marker === 0xc0)!;
    noHeight.writeUInt16BE(0, sof.start + 5);
    expect(jpeg(noHeight)).toBeNull();
  });
});
