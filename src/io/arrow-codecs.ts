/**
 * The two buffer codecs of the Arrow IPC format (LZ4 frame and Zstandard), registered with
 * apache-arrow so compressed files read like uncompressed ones: `DataFrame.to_feather()` writes
 * LZ4 by default, and pyarrow's `write_feather(..., compression='zstd')` Zstandard. Decoding only,
 * in pure JavaScript (lz4js, fzstd); files qmtl writes stay uncompressed.
 */
import { compressionRegistry, CompressionType } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import { decompress as lz4Decompress } from 'lz4js';

let registered = false;

/** Registers the decoders once per process; later calls do nothing. */
export function registerArrowCodecs(): void {
  if (registered) return;
  registered = true;
  // Each decoded buffer is copied into one of its own: Arrow views it as 64-bit values, which
  // needs an 8-byte-aligned offset that a view into a larger decoder buffer may not have.
  compressionRegistry.set(CompressionType.LZ4_FRAME, {
    decode: (data) => Uint8Array.from(lz4Decompress(data)),
  });
  compressionRegistry.set(CompressionType.ZSTD, { decode: (data) => zstdDecompress(data).slice() });
}
