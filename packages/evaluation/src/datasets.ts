import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { cocoImageId } from '@spotter/shared';
import type { GroundTruth, XYWH } from './coco-eval.js';

export interface DatasetImage {
  id: number;
  file: string;
  width: number;
  height: number;
}

/** A detection dataset in COCO terms, whatever its format on disk. */
export interface Dataset {
  name: string;
  images: DatasetImage[];
  categories: { id: number; name: string }[];
  annotations: GroundTruth[];
}

const IMAGE = /\.(jpe?g|png|webp|bmp|tiff?)$/i;


function parseClassNames(yaml: string): { id: number; name: string }[] {
  // `names:` as a map (0: person) or a list (- person); enough YAML for classes.yaml.
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => /^names:\s*$/.test(l));
  const out: { id: number; name: string }[] = [];
  for (const line of lines.slice(start + 1)) {
    const map = /^\s+(\d+):\s*['"]?(.+?)['"]?\s*$/.exec(line);
    const list = /^\s*-\s*['"]?(.+?)['"]?\s*$/.exec(line);
    if (map) out.push({ id: Number(map[1]), name: map[2]! });
    else if (list) out.push({ id: out.length, name: list[1]! });
    else if (line.trim() && !line.startsWith(' ')) break;
  }
  return out;
}

/**
 * YOLO layout: `images/`, `labels/<stem>.txt` (class cx cy w h, normalised) and
 * `classes.yaml`. Boxes become COCO [x, y, w, h] pixels with area = box area.
 */
export async function loadYoloDataset(dir: string): Promise<Dataset> {
  const categories = parseClassNames(await readFile(path.join(dir, 'classes.yaml'), 'utf8'));
  const files = (await readdir(path.join(dir, 'images'))).filter((f) => IMAGE.test(f)).sort();
  const used = new Set<number>();
  const images: DatasetImage[] = [];
  const annotations: GroundTruth[] = [];
  let annId = 1;
  for (const [index, file] of files.entries()) {
    const full = path.join(dir, 'images', file);
    const meta = await sharp(full).metadata();
    const [width, height] = (meta.orientation ?? 1) >= 5 ? [meta.height!, meta.width!] : [meta.width!, meta.height!];
    const id = cocoImageId(file, index, used);
    images.push({ id, file: full, width, height });
    const text = await readFile(path.join(dir, 'labels', `${path.parse(file).name}.txt`), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const parts = line.trim().split(/\s+/).map(Number);
      if (parts.length < 5 || parts.some((v) => !Number.isFinite(v))) continue;
      const [c, cx, cy, w, h] = parts as [number, number, number, number, number];
      const bbox: XYWH = [(cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height];
      annotations.push({ id: annId++, imageId: id, categoryId: c, bbox, area: bbox[2] * bbox[3], iscrowd: false });
    }
  }
  return { name: path.basename(dir), images, categories, annotations };
}

interface CocoJson {
  images: { id: number; file_name: string; width: number; height: number }[];
  categories: { id: number; name: string }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: XYWH; area?: number; iscrowd?: number }[];
}

/** COCO JSON instances file; images are read from `imagesDir`. */
export async function loadCocoDataset(annotationsFile: string, imagesDir: string): Promise<Dataset> {
  const coco = JSON.parse(await readFile(annotationsFile, 'utf8')) as CocoJson;
  return {
    name: path.basename(annotationsFile, '.json'),
    images: coco.images.map((i) => ({ id: i.id, file: path.join(imagesDir, i.file_name), width: i.width, height: i.height })),
    categories: coco.categories.map((c) => ({ id: c.id, name: c.name })),
    annotations: coco.annotations.map((a) => ({
      id: a.id,
      imageId: a.image_id,
      categoryId: a.category_id,
      bbox: a.bbox,
      area: a.area ?? a.bbox[2] * a.bbox[3],
      iscrowd: Boolean(a.iscrowd),
    })),
  };
}

/** A dataset directory in either layout: YOLO (classes.yaml) or COCO (annotations/*.json + images/). */
export async function loadDataset(dir: string): Promise<Dataset> {
  const entries = await readdir(dir);
  if (entries.includes('classes.yaml')) return loadYoloDataset(dir);
  const annDir = entries.includes('annotations') ? path.join(dir, 'annotations') : dir;
  const json = (await readdir(annDir)).find((f) => f.endsWith('.json'));
  if (!json) throw new Error(`${dir}: neither classes.yaml (YOLO) nor a COCO annotations .json found`);
  return loadCocoDataset(path.join(annDir, json), entries.includes('images') ? path.join(dir, 'images') : dir);
}

/** The dataset restricted to some of its images (and their annotations): a held-out split, say. */
export function subsetDataset(dataset: Dataset, keep: (image: DatasetImage) => boolean): Dataset {
  const images = dataset.images.filter(keep);
  const ids = new Set(images.map((i) => i.id));
  return { ...dataset, images, annotations: dataset.annotations.filter((a) => ids.has(a.imageId)) };
}
