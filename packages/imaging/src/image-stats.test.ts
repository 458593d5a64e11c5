import { describe, expect, it } from 'vitest';
import { lumaStats } from './image-stats.js';

describe('luma statistics', () => {
  it('gives mean, standard deviation and Laplacian variance', () => {
    const flat = new Uint8Array(16).fill(100);
    expect(lumaStats(flat, 4, 4)).toEqual({ brightness: 100, contrast: 0, sharpness: 0 });
    // Checkerboard 0/200: mean 100, std 100; every inner Laplacian is +-800.
    const board = Uint8Array.from({ length: 16 }, (_, i) => ((i % 4) + Math.floor(i / 4)) % 2 ? 200 : 0);
    const s = lumaStats(board, 4, 4);
    expect(s.brightness).toBe(100);
    expect(s.contrast).toBe(100);
    expect(s.sharpness).toBe(640000);
  });
});
