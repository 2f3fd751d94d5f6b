const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** Continues a standard (zlib) CRC32 over `bytes`, starting from a previous `crc` (0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const encoder = new TextEncoder();

/**
 * `node_ids_crc32` (SPEC §2.4): CRC32 chained over the UTF-8 bytes of every id in order, as an
 * unsigned 32-bit integer. Equal to the CRC32 of the ids' concatenation.
 */
export function crc32OfList(items: Iterable<string>): number {
  let crc = 0;
  for (const item of items) crc = crc32(encoder.encode(item), crc);
  return crc;
}
