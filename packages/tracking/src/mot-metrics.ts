import { boxIou, type Corners } from '@spotter/shared';
import { linearAssignment } from './linear-assignment.js';

/** A box with its identity: a ground-truth object or a tracker's hypothesis. */
export interface IdBox {
  id: number;
  box: Corners;
}

/** One frame of a sequence: the true objects and what the tracker said. */
export interface MotFrame {
  truth: readonly IdBox[];
  hypotheses: readonly IdBox[];
}

/**
 * CLEAR-MOT (Bernardin & Stiefelhagen, 2008), as py-motmetrics computes it: in each frame,
 * pairs kept from the previous frame stay matched while their IoU holds; the other objects
 * and hypotheses are matched by minimum-cost assignment on 1 - IoU (pairs under `iou` are
 * not allowed). A match whose object was last matched to another hypothesis is an identity
 * switch; the frame indices of switches are listed, so callers can tell where they happened.
 * MOTA = 1 - (misses + false positives + switches) / objects; MOTP here is the mean IoU of matches.
 */
export function clearMot(frames: readonly MotFrame[], iou = 0.5) {
  const mapping = new Map<number, number>();
  let objects = 0;
  let matches = 0;
  let misses = 0;
  let falsePositives = 0;
  let iouSum = 0;
  let fragmentations = 0;
  const switches: { frame: number; truth: number; from: number; to: number }[] = [];
  const trackedBefore = new Map<number, boolean>();
  for (const [f, { truth, hypotheses }] of frames.entries()) {
    objects += truth.length;
    const matchedT = new Set<number>();
    const matchedH = new Set<number>();
    const pairs: [IdBox, IdBox, number][] = [];
    // 1. Correspondences from the previous frame that still hold.
    for (const t of truth) {
      const h = hypotheses.find((x) => x.id === mapping.get(t.id));
      const v = h ? boxIou(t.box, h.box) : 0;
      if (h && v >= iou && !matchedH.has(h.id)) {
        pairs.push([t, h, v]);
        matchedT.add(t.id);
        matchedH.add(h.id);
      }
    }
    // 2. The rest by minimum-cost assignment.
    const ts = truth.filter((t) => !matchedT.has(t.id));
    const hs = hypotheses.filter((h) => !matchedH.has(h.id));
    const cost = ts.map((t) => hs.map((h) => {
      const v = boxIou(t.box, h.box);
      return v >= iou ? 1 - v : Infinity;
    }));
    for (const [i, j] of linearAssignment(cost.map((r) => r.map((c) => (Number.isFinite(c) ? c : 2))), 1 - iou + 1e-12).pairs) {
      const t = ts[i]!;
      const h = hs[j]!;
      const before = mapping.get(t.id);
      if (before !== undefined && before !== h.id) switches.push({ frame: f, truth: t.id, from: before, to: h.id });
      pairs.push([t, h, boxIou(t.box, h.box)]);
      matchedT.add(t.id);
      matchedH.add(h.id);
    }
    for (const [t, h, v] of pairs) {
      mapping.set(t.id, h.id);
      iouSum += v;
    }
    matches += pairs.length;
    misses += truth.length - matchedT.size;
    falsePositives += hypotheses.length - matchedH.size;
    for (const t of truth) {
      const tracked = matchedT.has(t.id);
      if (tracked && trackedBefore.get(t.id) === false) fragmentations++;
      if (trackedBefore.has(t.id) || tracked) trackedBefore.set(t.id, tracked);
    }
  }
  const mota = objects ? 1 - (misses + falsePositives + switches.length) / objects : 1;
  return { objects, matches, misses, falsePositives, switches, fragmentations, mota, motp: matches ? iouSum / matches : 0 };
}

/**
 * IDF1 (Ristani et al., 2016): true and hypothesised trajectories are paired one to one so as
 * to maximise the frames where a pair overlaps (IoU >= `iou`); IDTP is that number of frames,
 * IDF1 = 2 IDTP / (true detections + hypothesised detections).
 */
export function idf1(frames: readonly MotFrame[], iou = 0.5) {
  const overlap = new Map<number, Map<number, number>>();
  let truths = 0;
  let hyps = 0;
  for (const { truth, hypotheses } of frames) {
    truths += truth.length;
    hyps += hypotheses.length;
    for (const t of truth) for (const h of hypotheses) {
      if (boxIou(t.box, h.box) < iou) continue;
      const row = overlap.get(t.id) ?? new Map<number, number>();
      row.set(h.id, (row.get(h.id) ?? 0) + 1);
      overlap.set(t.id, row);
    }
  }
  const tIds = [...overlap.keys()];
  const hIds = [...new Set(tIds.flatMap((t) => [...overlap.get(t)!.keys()]))];
  const { pairs } = linearAssignment(tIds.map((t) => hIds.map((h) => -(overlap.get(t)!.get(h) ?? 0))), 0);
  const idtp = pairs.reduce((s, [i, j]) => s + (overlap.get(tIds[i]!)!.get(hIds[j]!) ?? 0), 0);
  return {
    idtp,
    idfn: truths - idtp,
    idfp: hyps - idtp,
    idf1: truths + hyps ? (2 * idtp) / (truths + hyps) : 1,
    idp: hyps ? idtp / hyps : 1,
    idr: truths ? idtp / truths : 1,
  };
}
