import { describe, expect, it } from 'vitest';
import { profileByOp, summarizeTimes } from './node-inference.js';

describe('timing summaries', () => {
  it('takes min, p10, median, mean and p90', () => {
    const t = summarizeTimes([5, 1, 4, 2, 3, 10, 6, 7, 9, 8]);
    expect(t).toEqual({ runs: 10, min_ms: 1, p10_ms: 2, median_ms: 6, mean_ms: 5.5, p90_ms: 10 });
  });

  it('sums ONNX Runtime profile kernel events by op, per inference', () => {
    const events = [
      { cat: 'Session', name: 'session_initialization', dur: 9999 },
      { cat: 'Node', name: 'conv1_kernel_time', dur: 300, args: { op_name: 'QLinearConv' } },
      { cat: 'Node', name: 'conv1_fence_before', dur: 50, args: { op_name: 'QLinearConv' } },
      { cat: 'Node', name: 'conv2_kernel_time', dur: 100, args: { op_name: 'QLinearConv' } },
      { cat: 'Node', name: 'conv1_kernel_time', dur: 300, args: { op_name: 'QLinearConv' } },
      { cat: 'Node', name: 'sig_kernel_time', dur: 1000, args: { op_name: 'QLinearSigmoid' } },
    ];
    expect(profileByOp(events, 2)).toEqual([
      { op: 'QLinearSigmoid', nodes: 1, ms: 0.5 },
      { op: 'QLinearConv', nodes: 2, ms: 0.35 },
    ]);
  });
});
