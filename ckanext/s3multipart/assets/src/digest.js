// The file's checksums, read once and in order: the MD5 of each part (its Content-MD5,
// which the store checks, and its ETag on resume) and the SHA-256 of the whole (the
// resource's `hash`). Pure: the Web Worker (digest-worker.js) runs it, and Node tests it.
// hash-wasm's WASM hashers take the file a few MiB at a time, so memory stays flat
// whatever its size.
import { createMD5, createSHA256 } from 'hash-wasm'
import { partRange } from './plan.js'

export const CHUNK_SIZE = 4 * 1024 * 1024

/**
 * One part's digest, as the worker hands it to the page.
 * @typedef {object} PartDigest
 * @property {number} part    the part number
 * @property {string} hex     its MD5, lowercase hex (S3's ETag of the part)
 * @property {string} base64  its MD5, base64 (the Content-MD5 header)
 */

// The Content-MD5 form of a digest.
export function base64Of (bytes) {
  let text = ''
  for (const byte of bytes) text += String.fromCharCode(byte)
  return btoa(text)
}

// The bytes of `blob`, in order, a chunk (at most `chunkSize`) at a time; each chunk is
// only valid until the next is asked for. Where Blob streams are byte streams (Chrome,
// Firefox, Node) one buffer is read into again and again: an ArrayBuffer per chunk is
// garbage that V8 collects only every ~64 MiB, which doubled the worker's peak memory
// on a 4 GiB file. Elsewhere, a fresh ArrayBuffer per chunk.
export async function * chunksOf (blob, chunkSize = CHUNK_SIZE) {
  let reader = null
  try {
    reader = blob.stream?.().getReader({ mode: 'byob' })
  } catch {} // TypeError: not a byte stream
  if (!reader) {
    for (let at = 0; at < blob.size; at += chunkSize) {
      yield new Uint8Array(await blob.slice(at, Math.min(blob.size, at + chunkSize)).arrayBuffer())
    }
    return
  }
  // No larger than the blob: a folder's small files, hashed one after another in one
  // worker, would each leave a whole chunk's buffer of garbage.
  let buffer = new ArrayBuffer(Math.max(1, Math.min(chunkSize, blob.size)))
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(buffer))
    if (done) return
    yield value
    buffer = value.buffer // the read took the buffer over; this is it, back
  }
}

// Hash `blob` part by part along `plan` ({partSize, partCount}), calling
// `onPart(PartDigest)` as each part is done, in part order; resolves to the SHA-256
// (lowercase hex), and `onChunk()` after each chunk read. Each byte is read once.
export async function digestFile (blob, plan, { onPart = () => {}, onChunk = () => {}, chunkSize = CHUNK_SIZE } = {}) {
  const [md5, sha256] = await Promise.all([createMD5(), createSHA256()])
  sha256.init()
  for (let part = 1; part <= plan.partCount; part++) {
    const { start, end } = partRange(plan, blob.size, part)
    md5.init()
    for await (const bytes of chunksOf(blob.slice(start, end), chunkSize)) {
      md5.update(bytes)
      sha256.update(bytes)
      onChunk()
    }
    const digest = md5.digest('binary')
    onPart({ part, hex: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), base64: base64Of(digest) })
  }
  return sha256.digest('hex')
}
