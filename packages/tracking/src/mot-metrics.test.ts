import { describe, expect, it } from 'vitest';
import { clearMot, idf1, type IdBox } from './mot-metrics.js';

const at = (id: number, x: number): IdBox => ({ id, box: { x1: x, y1: 0, x2: x + 10, y2: 10 } });

describe('CLEAR-MOT and IDF1', () => {
  it('are perfect for a perfect tracker, whatever its ids are called', () => {
    const frames = Array.from({ length: 5 }, (_, f) => ({ truth: [at(1, f), at(2, 100 + f)], hypotheses: [at(7, f), at(9, 100 + f)] }));
    expect(clearMot(frames)).toMatchObject({ objects: 10, matches: 10, misses: 0, falsePositives: 0, switches: [], mota: 1, motp: 1 });
    expect(idf1(frames)).toMatchObject({ idtp: 10, idf1: 1 });
  });

  it('count misses, false positives and identity switches by their definitions', () => {
    // Object 1 is followed by hypothesis 7 for two frames, then by 8 (a switch at frame 2);
    // object 2 is missed in frame 1; a hypothesis far from everything is a false positive in frame 3.
    const frames = [
      { truth: [at(1, 0), at(2, 100)], hypotheses: [at(7, 0), at(9, 100)] },
      { truth: [at(1, 1), at(2, 101)], hypotheses: [at(7, 1)] },
      { truth: [at(1, 2), at(2, 102)], hypotheses: [at(8, 2), at(9, 102)] },
      { truth: [at(1, 3), at(2, 103)], hypotheses: [at(8, 3), at(9, 103), at(5, 500)] },
    ];
    const m = clearMot(frames);
    expect(m).toMatchObject({ objects: 8, matches: 7, misses: 1, falsePositives: 1, fragmentations: 1 });
    expect(m.switches).toEqual([{ frame: 2, truth: 1, from: 7, to: 8 }]);
    expect(m.mota).toBeCloseTo(1 - 3 / 8, 12);
    // IDF1: 1 pairs with 7 or 8 (2 frames either way), 2 with 9 (3 frames): IDTP 5 of 8 true and 8 hypothesised.
    const i = idf1(frames);
    expect(i).toMatchObject({ idtp: 5, idfn: 3, idfp: 3 });
    expect(i.idf1).toBeCloseTo(10 / 16, 12);
  });

  it('keep a correspondence that still overlaps rather than re-pairing greedily (no switch when two objects meet)', () => {
    // Two objects side by side; in frame 1 hypothesis 8 also overlaps object 1 better than 7 does, yet 7 still overlaps it enough.
    const frames = [
      { truth: [at(1, 0), at(2, 6)], hypotheses: [at(7, 0), at(8, 6)] },
      { truth: [at(1, 3), at(2, 6)], hypotheses: [at(7, 0), at(8, 4)] },
    ];
    const m = clearMot(frames);
    expect(m.switches).toEqual([]);
    expect(m.matches).toBe(4);
  });
});
