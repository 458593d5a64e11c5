import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { Corners } from '@spotter/shared';

const run = promisify(execFile);

/** A labelled object cut from a dataset picture: its pixels and class. */
interface Cutout {
  classId: number;
  png: Buffer;
  width: number;
  height: number;
}

/** Where one object is in each frame (null: not in the picture). */
export interface Path {
  cutout: number;
  at: (frame: number) => { x: number; y: number } | null;
}

export interface GroundTruthFrame {
  /** The objects at least half visible, with their true boxes (later paths are drawn over earlier ones). */
  truth: { id: number; classId: number; box: Corners }[];
}

/**
 * The largest labelled objects of `classes` in a YOLO-format dataset that no other object of
 * those classes overlaps, cut out with their boxes and scaled to at most `maxSide`: what the
 * generated sequences move (the other classes a cutout may hold are filtered out by the test).
 */
export async function cutouts(datasetDir: string, classes: readonly number[], count: number, { minSide = 110, maxSide = 200 } = {}): Promise<Cutout[]> {
  const found: (Cutout & { area: number })[] = [];
  for (const file of (await readdir(path.join(datasetDir, 'labels'))).sort()) {
    const image = path.join(datasetDir, 'images', file.replace(/\.txt$/, '.jpg'));
    const { width: W = 0, height: H = 0 } = await sharp(image).metadata();
    const boxes = (await readFile(path.join(datasetDir, 'labels', file), 'utf8'))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [c, cx, cy, w, h] = l.split(' ').map(Number) as [number, number, number, number, number];
        return { c, x1: Math.round((cx - w / 2) * W), y1: Math.round((cy - h / 2) * H), x2: Math.round((cx + w / 2) * W), y2: Math.round((cy + h / 2) * H) };
      });
    for (const b of boxes) {
      const w = b.x2 - b.x1;
      const h = b.y2 - b.y1;
      if (!classes.includes(b.c) || w < minSide || h < minSide) continue;
      const clear = boxes.every((o) => o === b || !classes.includes(o.c) || o.x2 <= b.x1 || o.x1 >= b.x2 || o.y2 <= b.y1 || o.y1 >= b.y2);
      if (!clear) continue;
      const png = await sharp(image)
        .extract({ left: Math.max(0, b.x1), top: Math.max(0, b.y1), width: Math.min(w, W - b.x1), height: Math.min(h, H - b.y1) })
        .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
        .png()
        .toBuffer();
      const meta = await sharp(png).metadata();
      found.push({ classId: b.c, png, width: meta.width!, height: meta.height!, area: w * h });
    }
  }
  return found.sort((a, b) => b.area - a.area).slice(0, count);
}

const area = (b: Corners) => Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
const intersect = (a: Corners, b: Corners): Corners => ({ x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1), x2: Math.min(a.x2, b.x2), y2: Math.min(a.y2, b.y2) });

/**
 * Renders `frames` frames of the cutouts moving along their paths over a plain background,
 * encodes them as H.264 with a keyframe every `gop` frames, and returns the truth per frame.
 * An object covered by later ones for more than half its box is left out of that frame's
 * truth (as MOT benchmarks drop heavily occluded objects), but it keeps its identity.
 */
export async function renderSequence(out: string, items: readonly Cutout[], paths: readonly Path[], opts: { width: number; height: number; frames: number; fps: number; gop: number }): Promise<GroundTruthFrame[]> {
  const dir = `${out}.frames`;
  await mkdir(dir, { recursive: true });
  const background = await sharp({ create: { width: opts.width, height: opts.height, channels: 3, background: { r: 128, g: 132, b: 126 } } }).png().toBuffer();
  const truth: GroundTruthFrame[] = [];
  for (let f = 0; f < opts.frames; f++) {
    const placed = paths.flatMap((p, id) => {
      const at = p.at(f);
      const c = items[p.cutout]!;
      return at ? [{ id, c, box: { x1: Math.round(at.x), y1: Math.round(at.y), x2: Math.round(at.x) + c.width, y2: Math.round(at.y) + c.height } }] : [];
    });
    truth.push({
      truth: placed
        .filter((p, i) => {
          const covered = placed.slice(i + 1).reduce((sum, q) => sum + area(intersect(p.box, q.box)), 0);
          return covered <= area(p.box) / 2;
        })
        .map((p) => ({ id: p.id, classId: p.c.classId, box: p.box })),
    });
    const frame = await sharp(background)
      .composite(placed.map((p) => ({ input: p.c.png, left: p.box.x1, top: p.box.y1 })))
      .png({ compressionLevel: 1 })
      .toBuffer();
    await writeFile(path.join(dir, `${String(f).padStart(4, '0')}.png`), frame);
  }
  await run('ffmpeg', ['-v', 'error', '-nostdin', '-framerate', String(opts.fps), '-i', path.join(dir, '%04d.png'), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-g', String(opts.gop), '-keyint_min', String(opts.gop), '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-y', out]);
  await rm(dir, { recursive: true, force: true });
  return truth;
}
