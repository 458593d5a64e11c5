import { describe, expect, it } from 'vitest';
import { fileHints, parsePythonLiteral } from './file-metadata.js';

describe('parsePythonLiteral', () => {
  it('reads dicts, lists, tuples, strings with either quote, numbers and constants', () => {
    expect(parsePythonLiteral("{0: 'person', 1: \"cat's toy\", 2: 'a\\'b'}")).toEqual({ 0: 'person', 1: "cat's toy", 2: "a'b" });
    expect(parsePythonLiteral('[640, 480]')).toEqual([640, 480]);
    expect(parsePythonLiteral('(1.5, -2e3, True, False, None)')).toEqual([1.5, -2000, true, false, null]);
    expect(parsePythonLiteral("{'nms': False, 'batch': 1,}")).toEqual({ nms: false, batch: 1 });
  });

  it('refuses what is not a literal', () => {
    expect(() => parsePythonLiteral('detect')).toThrow(/not a Python literal/);
    expect(() => parsePythonLiteral('[1, 2')).toThrow(/not a Python literal/);
    expect(() => parsePythonLiteral("'open")).toThrow(/unterminated/);
  });
});

describe('fileHints', () => {
  it("reads Ultralytics' names, imgsz ([height, width]), end2end and task", () => {
    const hints = fileHints({ names: "{0: 'person', 1: 'bicycle'}", imgsz: '[480, 640]', end2end: 'True', task: 'detect', stride: '32' });
    expect(hints).toEqual({ names: ['person', 'bicycle'], size: { width: 640, height: 480 }, end2end: true, task: 'detect' });
  });

  it('ignores what is malformed rather than guessing', () => {
    expect(fileHints({ names: "{0: 'a', 2: 'c'}", imgsz: '[640]', end2end: 'maybe' })).toEqual({});
    expect(fileHints({})).toEqual({});
  });
});
