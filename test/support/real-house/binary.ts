// Files whose bytes do not compress: images, sounds, fonts, a TensorFlow Lite model, the .gz
// beside each HACS bundle, databases. Each starts with its format's magic bytes (so `file` names
// it and nothing mistakes it for text) and continues with incompressible bytes of the exact size.
// Python bytecode is half code objects (compressible strings) and half packed data.
import { incompressibleBytes } from './random.ts';

const MAGIC: Record<string, Buffer> = {
  png: Buffer.from('89504e470d0a1a0a0000000d49484452000007800000043808060000005c72a866', 'hex'),
  jpeg: Buffer.from('ffd8ffe000104a46494600010101004800480000', 'hex'),
  mp3: Buffer.from('494433030000000000', 'hex'),
  gzip: Buffer.from('1f8b0800000000000003', 'hex'),
  // A TFLite flatbuffer: a 4-byte root offset, then the identifier.
  tflite: Buffer.from('1c00000054464c33', 'hex'),
  font: Buffer.from('774f4632000100000000', 'hex'),
  // An ESP32 application image: magic 0xE9, segment count, flash mode.
  firmware: Buffer.from('e906020f', 'hex'),
  sqlite: Buffer.from('53514c69746520666f726d6174203300100002020040202000000001', 'hex'),
  'sqlite-wal': Buffer.from('377f0682002de21800001000', 'hex'),
  'backup-tar': Buffer.alloc(0),
};

export type BinaryKind = keyof typeof MAGIC;

export function isBinaryKind(kind: string): kind is BinaryKind {
  return Object.hasOwn(MAGIC, kind);
}

/** `size` bytes of `kind`: its magic, then bytes no compressor shrinks. */
export function binaryBytes(kind: BinaryKind, size: number, ...seed: readonly (string | number)[]): Buffer {
  const out = incompressibleBytes(size, kind, ...seed);
  const magic = MAGIC[kind] ?? Buffer.alloc(0);
  magic.copy(out, 0, 0, Math.min(magic.length, size));
  // A tar archive names its format at offset 257.
  if (kind === 'backup-tar' && size >= 263) out.write('ustar\u0000', 257, 'latin1');
  return out;
}

/** The shared-memory index of SQLite's write-ahead log: mostly zeroes. */
export function sqliteShmBytes(size: number, ...seed: readonly (string | number)[]): Buffer {
  const out = Buffer.alloc(size);
  incompressibleBytes(Math.min(size, 136), 'shm', ...seed).copy(out);
  return out;
}

/**
 * CPython 3.12 bytecode (`.cpython-312.pyc`): the 16-byte header, then two blocks of the module's
 * own text (names, docstrings) for every block of packed code, so it compresses about 2x as real
 * .pyc files do.
 */
export function pycBytes(size: number, sourceText: Buffer, ...seed: readonly (string | number)[]): Buffer {
  const out = incompressibleBytes(size, 'pyc', ...seed);
  Buffer.from('cb0d0d0a00000000', 'hex').copy(out, 0, 0, Math.min(8, size));
  const block = 64;
  let source = 0;
  for (let offset = 16; offset < size; offset += block * 3) {
    source += sourceText.copy(out, offset, source, Math.min(source + block * 2, sourceText.length, source + size - offset));
  }
  return out;
}
