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

// Hash `blob` part by part along `plan` ({partSize, partCount}), calling
// `onPart(PartDigest)` as each part is done, in part order; resolves to the SHA-256
// (lowercase hex). Chunks never cross a part boundary: each byte is read once.
export async function digestFile (blob, plan, { onPart = () => {}, chunkSize = CHUNK_SIZE } = {}) {
  const [md5, sha256] = await Promise.all([createMD5(), createSHA256()])
  sha256.init()
  for (let part = 1; part <= plan.partCount; part++) {
    const { start, end } = partRange(plan, blob.size, part)
    md5.init()
    for (let at = start; at < end; at += chunkSize) {
      const bytes = new Uint8Array(await blob.slice(at, Math.min(end, at + chunkSize)).arrayBuffer())
      md5.update(bytes)
      sha256.update(bytes)
    }
    const digest = md5.digest('binary')
    onPart({ part, hex: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), base64: base64Of(digest) })
  }
  return sha256.digest('hex')
}
