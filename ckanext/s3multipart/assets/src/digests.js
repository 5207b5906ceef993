// One file's digests as the upload asks for them: each part's MD5 once the hasher has got
// to it (hashing runs ahead of the sends, in part order), and the whole file's SHA-256 at
// the end. `run` does the hashing: the Web Worker in the page (hasher.js), digest.js
// itself in Node's tests.

/**
 * Hashes `file` along `plan`, calling `onPart` with each PartDigest (digest.js) in order.
 * @typedef {(file: Blob, plan: {partSize: number, partCount: number},
 *   onPart: (digest: import('./digest.js').PartDigest) => void) =>
 *   {promise: Promise<string>, stop: () => void}} HashRunner
 */

export class FileDigests {
  /** @param {HashRunner} run @param {(d: import('./digest.js').PartDigest) => void} [onPart] */
  constructor (file, plan, run, onPart = () => {}) {
    this.known = new Map()
    this.waiting = new Map()
    this.failure = null
    const { promise, stop } = run(file, plan, (digest) => {
      this.known.set(digest.part, digest)
      onPart(digest)
      for (const { resolve } of this.waiting.get(digest.part) || []) resolve(digest)
      this.waiting.delete(digest.part)
    })
    this.stop = stop
    this.whole = promise
    // A failure (the file unreadable) reaches every part still awaited, and later asks.
    promise.catch((error) => {
      this.failure = error
      for (const list of this.waiting.values()) for (const { reject } of list) reject(error)
      this.waiting.clear()
    })
  }

  // The PartDigest of part `number`, when the hasher gets to it.
  part (number) {
    if (this.known.has(number)) return Promise.resolve(this.known.get(number))
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiting.set(number, [...(this.waiting.get(number) || []), { resolve, reject }])
    })
  }

  // The whole file's SHA-256, lowercase hex.
  sha256 () {
    return this.whole
  }
}
