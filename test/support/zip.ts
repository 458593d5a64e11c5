import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  /** Deflate it (Node's native zlib) instead of storing it. */
  deflate?: boolean;
}

/**
 * A zip file, written the plain way (local headers, central directory) with Node's native
 * zlib, so tests can build large archives and bombs fast. Entries with the same bytes share
 * one compression. `hideSizes` leaves sizes out of the local headers (a data descriptor
 * follows each entry), as streaming zip writers do: a reader learns them only by inflating.
 */
export function makeZip(entries: ZipEntry[], opts: { hideSizes?: boolean } = {}): Buffer {
  const cache = new Map<Uint8Array, { packed: Buffer; crc: number }>();
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    let c = cache.get(e.data);
    if (!c) {
      c = { packed: e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data), crc: crc32(e.data) };
      cache.set(e.data, c);
    }
    const name = Buffer.from(e.name, 'utf8');
    const method = e.deflate ? 8 : 0;
    const flags = 0x0800 | (opts.hideSizes ? 0x0008 : 0); // UTF-8 names, data descriptor
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    if (!opts.hideSizes) {
      local.writeUInt32LE(c.crc >>> 0, 14);
      local.writeUInt32LE(c.packed.length, 18);
      local.writeUInt32LE(e.data.length, 22);
    }
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, c.packed);
    let descriptor = 0;
    if (opts.hideSizes) {
      const dd = Buffer.alloc(16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(c.crc >>> 0, 4);
      dd.writeUInt32LE(c.packed.length, 8);
      dd.writeUInt32LE(e.data.length, 12);
      locals.push(dd);
      descriptor = 16;
    }
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(flags, 8);
    dir.writeUInt16LE(method, 10);
    dir.writeUInt32LE(c.crc >>> 0, 16);
    dir.writeUInt32LE(c.packed.length, 20);
    dir.writeUInt32LE(e.data.length, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    central.push(dir, name);
    offset += 30 + name.length + c.packed.length + descriptor;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 8);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dirBytes, end]);
}
