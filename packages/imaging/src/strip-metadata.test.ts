import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { probeImage } from './probe.js';
import { stripMetadata } from './strip-metadata.js';

// A position on the map, a camera and a comment: what a phone puts in a photo.
const GPS_EXIF = { IFD0: { Make: 'PhoneMaker', Model: 'Phone 12' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2964/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4032/100' } };
const base = () => sharp({ create: { width: 48, height: 32, channels: 3, background: '#3366aa' } });

describe('stripMetadata', () => {
  it('drops EXIF (GPS, camera) and XMP from a JPEG losslessly, keeps its orientation, and drops bytes after its end', async () => {
    const photo = await base().jpeg().withExif(GPS_EXIF).withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>').withMetadata({ orientation: 6 }).toBuffer();
    const motion = Buffer.concat([photo, Buffer.alloc(4096, 9)]);
    expect(photo.includes(Buffer.from('PhoneMaker'))).toBe(true);
    const { bytes, format } = await stripMetadata(motion, 'jpeg');
    expect(format).toBe('jpeg');
    const meta = await sharp(bytes).metadata();
    expect(meta.orientation).toBe(6);
    expect(bytes.includes(Buffer.from('PhoneMaker'))).toBe(false);
    expect(bytes.includes(Buffer.from('xmpmeta'))).toBe(false);
    expect(meta.exif?.length ?? 0).toBeLessThan(64);
    // Lossless: the very same pixels.
    const [a, b] = await Promise.all([photo, bytes].map((x) => sharp(x).raw().toBuffer()));
    expect(b!.equals(a!)).toBe(true);
    expect(await probeImage(bytes, 1e6)).toEqual({ format: 'jpeg', width: 32, height: 48 });
  });

  it('drops text chunks from a PNG and EXIF from a WebP, losslessly', async () => {
    const png = await base().png().withExif(GPS_EXIF).toBuffer();
    const webp = await base().webp({ lossless: true }).withExif(GPS_EXIF).toBuffer();
    for (const [buf, format] of [[png, 'png'], [webp, 'webp']] as const) {
      expect(buf.includes(Buffer.from('PhoneMaker')), format).toBe(true);
      const out = await stripMetadata(buf, format);
      expect(out.bytes.includes(Buffer.from('PhoneMaker')), format).toBe(false);
      expect((await sharp(out.bytes).metadata()).exif, format).toBeUndefined();
      const [a, b] = await Promise.all([buf, out.bytes].map((x) => sharp(x).raw().toBuffer()));
      expect(b!.equals(a!), format).toBe(true);
    }
  });

  it('re-encodes other formats as PNG without metadata', async () => {
    const tiff = await base().tiff().withExif(GPS_EXIF).toBuffer();
    const out = await stripMetadata(tiff, 'tiff');
    expect(out.format).toBe('png');
    expect((await sharp(out.bytes).metadata()).exif).toBeUndefined();
  });
});
