import { mergeProfiles, type Profile } from './profile.js';

/** A frozen profile to compare windows with, cut into chunks for adaptive thresholds. */
export interface Reference {
  id: string;
  model: string;
  created_at: string;
  source: { from: string; to: string } | { images: string };
  profile: Profile;
  chunks: Profile[];
  /** Per-image F1 of the reference's labelled images (Page-Hinkley's warm-up); absent when it has none. */
  f1?: number[];
}

/** Splits profiles into about `n` chunks of similar image counts. */
export function chunkProfiles(parts: Profile[], n = 10): Profile[] {
  const total = parts.reduce((s, p) => s + p.images, 0);
  const target = Math.max(1, total / n);
  const chunks: Profile[] = [];
  let current: Profile[] = [];
  let count = 0;
  for (const p of parts) {
    current.push(p);
    count += p.images;
    if (count >= target) {
      chunks.push(mergeProfiles(...current));
      current = [];
      count = 0;
    }
  }
  if (current.length) chunks.push(mergeProfiles(...current));
  return chunks;
}
