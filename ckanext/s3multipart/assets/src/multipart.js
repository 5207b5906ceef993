// One file's multipart upload: start or resume, send the parts `concurrency` at a time
// with retries, complete, and forget the saved state. A file of one part may go in a
// single PUT instead, if its transport says so (`single`: the same calls, no state). Each part goes with its
// Content-MD5, hashed ahead of the sends (digests.js), and the result carries the
// file's SHA-256. Transport-agnostic: StsTransport or PresignedTransport does the
// talking (the contract: transport.js).
import { FileDigests } from './digests.js'
import { partKeepsChanging } from './errors.js'
import { planParts, partRange } from './plan.js'
import { runPool } from './pool.js'
import { holdsBytes, mergeListedParts } from './resume.js'
import { UploadError, classify, withRetry } from './retry.js'
import { tooLarge } from './limits.js'
import { Progress } from './progress.js'
import { putPart } from './xhr.js'

export class MultipartUpload {
  /**
   * @param {{ transport: import('./transport.js').Transport,
   *   hash: import('./digests.js').HashRunner } & Record<string, any>} options
   */
  constructor ({ transport, store, hash, maxSize, onProgress = () => {}, onRetry = () => {}, onStatus = () => {}, put = putPart, retry = {} }) {
    Object.assign(this, { transport, store, hash, maxSize, onProgress, onRetry, onStatus, put, retry })
    this.controller = null
    this.cancelled = false
    this.retries = 0
  }

  // Resolves to {key, size, sha256}.
  async upload (file) {
    const problem = tooLarge(file, this.maxSize)
    if (problem) throw new UploadError(problem)
    this.file = file
    this.controller = new AbortController()
    const signal = this.controller.signal
    const { session, held, plan } = await this.prepare(file)
    if (this.cancelled) {
      // Cancelled while the upload was being started: `cancel` had nothing to abort yet.
      await this.transport.abort().catch(() => {})
      this.store.clear(file)
      throw signal.reason
    }
    const progress = new Progress(file.size)
    const done = new Map()
    const kept = (digest) => held.has(digest.part) && holdsBytes(held.get(digest.part), digest.hex)
    // Content-MD5 of each part hashed and still to send: what a transport may sign ahead.
    const md5s = new Map()
    const digests = new FileDigests(file, plan, this.hash, (digest) => {
      if (!kept(digest)) md5s.set(digest.part, digest.base64)
    })
    const report = () => this.onProgress(progress.snapshot())
    report()
    const timer = setInterval(report, 500)
    try {
      const numbers = Array.from({ length: plan.partCount }, (_, i) => i + 1)
      await runPool(numbers, session.concurrency || 4, async (n) => {
        const { start, end } = partRange(plan, file.size, n)
        const digest = await digests.part(n)
        if (kept(digest)) {
          done.set(n, held.get(n))
          progress.partDone(n, end - start)
          return
        }
        const blob = file.slice(start, end)
        const etag = await withRetry(async () => {
          const request = await this.transport.partRequest(n, md5s)
          return this.put(request, blob, { signal, onProgress: (loaded) => progress.partLoaded(n, loaded) })
        }, {
          signal,
          ...this.retry,
          refresh: (error) => this.transport.refresh(error),
          onRetry: (error, tries) => {
            progress.partReset(n)
            this.retries += 1
            this.onRetry(error, n, tries)
          }
        }).catch((error) => {
          // Re-read and refused every time: the bytes on disk are not those hashed.
          if (classify(error) === 'digest') throw new UploadError(partKeepsChanging(n, error.tries, error), error)
          throw error
        })
        md5s.delete(n)
        done.set(n, etag)
        progress.partDone(n, end - start)
      }, signal)
      const sha256 = await digests.sha256()
      this.onStatus('completing')
      const parts = [...done.entries()].sort((a, b) => a[0] - b[0])
        .map(([part_number, etag]) => ({ part_number, etag }))
      await withRetry(() => this.transport.complete(parts), { signal, ...this.retry })
      report()
      this.store.clear(file)
      return { key: session.key, size: file.size, sha256 }
    } finally {
      clearInterval(timer)
      digests.stop()
    }
  }

  // Resume the saved upload of this file if S3 still has it, else start a new one.
  // `held`: the stored parts of the right size, each kept once its bytes are hashed.
  async prepare (file) {
    const saved = this.store.load(file)
    if (saved) {
      try {
        const session = await this.transport.begin(file, saved)
        const plan = { partSize: saved.partSize, partCount: saved.partCount }
        const held = mergeListedParts(plan, file.size, await this.transport.listParts()).done
        this.onStatus('resuming', { parts: held.size })
        return { session: { ...saved, ...session }, held, plan }
      } catch (error) {
        // Gone (completed, aborted or expired by a lifecycle rule): start afresh.
        this.store.clear(file)
        this.onStatus('restarting', { error })
      }
    }
    const session = await this.transport.begin(file)
    const plan = session.partCount
      ? { partSize: session.partSize, partCount: session.partCount }
      : planParts(file.size, session.partSize)
    const problem = tooLarge(file, session.maxSize)
    if (problem) {
      await this.transport.abort()
      throw new UploadError(problem)
    }
    // A file sent in one PUT (session.single) has no parts to resume.
    if (!session.single) this.store.save(file, { ...session, ...plan })
    return { session, held: new Map(), plan }
  }

  // Stop sending and abort the multipart upload so S3 drops the parts it holds.
  async cancel () {
    this.cancelled = true
    this.controller?.abort(new DOMException('Upload cancelled', 'AbortError'))
    try {
      await this.transport.abort()
    } finally {
      if (this.file) this.store.clear(this.file)
    }
  }
}
