/**
 * The published types name Node's Buffer in a few places (batches, writers, workers). A program
 * compiled without @types/node still gets them: for it, Buffer is the Uint8Array it extends. With
 * @types/node, this merges into Node's own declaration and changes nothing.
 */
declare global {
  // the same type parameter as Node's declaration, so that the two merge
  interface Buffer<TArrayBuffer extends ArrayBufferLike = ArrayBufferLike> extends Uint8Array<TArrayBuffer> {}
}
export {};
