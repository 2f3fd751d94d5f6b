/** The part of lz4js (no bundled types) that arrow-codecs.ts uses. */
declare module 'lz4js' {
  /** Decodes a complete LZ4 frame. */
  export function decompress(data: Uint8Array): ArrayLike<number>;
}
