// What exporters write about a model in its metadata_props. Ultralytics writes str() of Python
// values: `names` "{0: 'person', ...}", `imgsz` "[640, 640]" ([height, width]), `end2end`
// "True", `task` "detect" (a bare string). Only these are read; everything else is kept as text.

export type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

/** Parses a Python literal (dict, list, tuple, str, int, float, True/False/None); throws on anything else. */
export function parsePythonLiteral(src: string): PyValue {
  let at = 0;
  const ws = () => {
    while (at < src.length && /\s/.test(src[at]!)) at++;
  };
  const fail = (what: string): never => {
    throw new Error(`not a Python literal: ${what} at ${at}`);
  };
  const value = (): PyValue => {
    ws();
    const c = src[at];
    if (c === '{') return dict();
    if (c === '[' || c === '(') return list(c === '[' ? ']' : ')');
    if (c === "'" || c === '"') return str(c);
    const word = /^(True|False|None|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)/.exec(src.slice(at));
    if (!word) return fail('unexpected character');
    at += word[0].length;
    return word[0] === 'True' ? true : word[0] === 'False' ? false : word[0] === 'None' ? null : Number(word[0]);
  };
  const str = (q: string) => {
    let out = '';
    for (at++; at < src.length && src[at] !== q; at++) {
      if (src[at] === '\\') {
        const e = src[++at];
        out += e === 'n' ? '\n' : e === 't' ? '\t' : (e ?? '');
      } else out += src[at];
    }
    if (src[at] !== q) fail('unterminated string');
    at++;
    return out;
  };
  const items = <T>(close: string, item: () => T): T[] => {
    const out: T[] = [];
    for (at++; ; ) {
      ws();
      if (src[at] === close) return at++, out;
      out.push(item());
      ws();
      if (src[at] === ',') at++;
      else if (src[at] !== close) fail(`expected , or ${close}`);
    }
  };
  const list = (close: string) => items(close, value);
  const dict = () => {
    const entries = items('}', () => {
      const k = value();
      ws();
      if (src[at++] !== ':') fail('expected :');
      return [String(k), value()] as const;
    });
    return Object.fromEntries(entries);
  };
  const v = value();
  ws();
  if (at !== src.length) fail('trailing characters');
  return v;
}

/** What a model file's metadata says that Spotter uses, with where each came from. */
export interface FileHints {
  /** Class names in order of their ids. */
  names?: string[];
  /** Input size the model was exported at. */
  size?: { width: number; height: number };
  /** True for NMS-free (end-to-end) exports. */
  end2end?: boolean;
  /** Ultralytics' task: detect, segment, pose, obb, classify. */
  task?: string;
}

const literal = (v: string | undefined): PyValue | undefined => {
  if (v === undefined) return undefined;
  try {
    return parsePythonLiteral(v);
  } catch {
    return v;
  }
};

/** Reads `names`, `imgsz`, `end2end` and `task` when present and well-formed; ignores them otherwise. */
export function fileHints(metadata: Record<string, string>): FileHints {
  const hints: FileHints = {};
  const names = literal(metadata.names);
  if (names && typeof names === 'object' && !Array.isArray(names)) {
    const ids = Object.keys(names).map(Number);
    // Ids must be 0..n-1: a name list, not a sparse map.
    if (ids.length && ids.every((id, i) => Number.isInteger(id) && ids.includes(i))) hints.names = ids.sort((a, b) => a - b).map((id) => String(names[id]));
  } else if (Array.isArray(names) && names.length) hints.names = names.map(String);
  const imgsz = literal(metadata.imgsz);
  if (Array.isArray(imgsz) && imgsz.length === 2 && imgsz.every((v) => typeof v === 'number' && v > 0)) hints.size = { width: imgsz[1] as number, height: imgsz[0] as number };
  else if (typeof imgsz === 'number' && imgsz > 0) hints.size = { width: imgsz, height: imgsz };
  const end2end = literal(metadata.end2end);
  if (typeof end2end === 'boolean') hints.end2end = end2end;
  if (metadata.task) hints.task = metadata.task.trim();
  return hints;
}
