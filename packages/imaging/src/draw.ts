import sharp from 'sharp';
import type { Detection } from '@spotter/shared';

const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe'];

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The SVG overlay of labelled boxes for an image of the given size. */
export function detectionsSvg(width: number, height: number, detections: readonly Detection[]): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 250));
  const font = Math.max(12, Math.round(Math.min(width, height) / 40));
  const parts = detections.map((d) => {
    const color = PALETTE[d.class_id % PALETTE.length]!;
    const { x1, y1, x2, y2 } = d.box;
    const text = `${escapeXml(d.label)} ${d.score.toFixed(2)}`;
    const labelY = y1 - font - 4 >= 0 ? y1 - font - 4 : y1;
    const labelW = Math.round(text.length * font * 0.62) + 8;
    return (
      `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="${color}" stroke-width="${stroke}"/>` +
      `<rect x="${x1}" y="${labelY}" width="${labelW}" height="${font + 4}" fill="${color}"/>` +
      `<text x="${x1 + 4}" y="${labelY + font}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#000">${text}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** The image as displayed (EXIF applied) with labelled boxes drawn on it, as JPEG. */
export async function drawDetections(buf: Buffer, detections: readonly Detection[], maxPixels: number): Promise<Buffer> {
  const base = sharp(buf, { limitInputPixels: maxPixels }).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb');
  const { data, info } = await base.raw().toBuffer({ resolveWithObject: true });
  const overlay = Buffer.from(detectionsSvg(info.width, info.height, detections));
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .composite([{ input: overlay, top: 0, left: 0 }])
    .jpeg({ quality: 85, mozjpeg: false })
    .toBuffer();
}
