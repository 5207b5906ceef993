// One file's multipart upload: start or resume, send the missing parts `concurrency`
// at a time with retries, complete, and forget the saved state. Transport-agnostic:
// StsTransport or PresignedTransport does the talking (the contract: transport.js).
import { planParts, partRange } from './plan.js'
import { runPool } from './pool.js'
import { mergeListedParts } from './resume.js'
import { UploadError, withRetry } from './retry.js'
import { tooLarge } from './limits.js'
import { Progress } from './progress.js'
import { putPart } from './xhr.js'

export class MultipartUpload {
  /** @param {{ transport: import('./transport.js').Transport } & Record<string, any>} options */
  constructor ({ transport, store, maxSize, onProgress = () => {}, onRetry = () => {}, onStatus = () => {}, put = putPart, retry = {} }) {
    Object.assign(this, { transport, store, maxSize, onProgress, onRetry, onStatus, put, retry })
    this.controller = null
    this.retries = 0
  }

  async upload (file) {
    const problem = tooLarge(file, this.maxSize)
    if (problem) throw new UploadError(problem)
    this.file = file
    this.controller = new AbortController()
    const signal = this.controller.signal
    const { session, done, todo, plan } = await this.prepare(file)
    const progress = new Progress(file.size)
    for (const n of done.keys()) {
      const { start, end } = partRange(plan, file.size, n)
      progress.partDone(n, end - start)
    }
    const report = () => this.onProgress(progress.snapshot())
    report()
    const timer = setInterval(report, 500)
    try {
      await runPool(todo, session.concurrency || 4, async (n) => {
        const { start, end } = partRange(plan, file.size, n)
        const blob = file.slice(start, end)
        const etag = await withRetry(async () => {
          const url = await this.transport.partUrl(n)
          return this.put(url, blob, { signal, onProgress: (loaded) => progress.partLoaded(n, loaded) })
        }, {
          signal,
          ...this.retry,
          refresh: (error) => this.transport.refresh(error),
          onRetry: (error, tries) => {
            progress.partReset(n)
            this.retries += 1
            this.onRetry(error, n, tries)
          }
        })
        done.set(n, etag)
        progress.partDone(n, end - start)
      }, signal)
      this.onStatus('completing')
      const parts = [...done.entries()].sort((a, b) => a[0] - b[0])
        .map(([part_number, etag]) => ({ part_number, etag }))
      await withRetry(() => this.transport.complete(parts), { signal, ...this.retry })
    } finally {
      clearInterval(timer)
    }
    report()
    this.store.clear(file)
    return { key: session.key, size: file.size }
  }

  // Resume the saved upload of this file if S3 still has it, else start a new one.
  async prepare (file) {
    const saved = this.store.load(file)
    if (saved) {
      try {
        const session = await this.transport.begin(file, saved)
        const plan = { partSize: saved.partSize, partCount: saved.partCount }
        const { done, todo } = mergeListedParts(plan, file.size, await this.transport.listParts())
        this.onStatus('resuming', { parts: done.size })
        return { session: { ...saved, ...session }, done, todo, plan }
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
    this.store.save(file, { ...session, ...plan })
    const todo = Array.from({ length: plan.partCount }, (_, i) => i + 1)
    return { session, done: new Map(), todo, plan }
  }

  // Stop sending and abort the multipart upload so S3 drops the parts it holds.
  async cancel () {
    this.controller?.abort(new DOMException('Upload cancelled', 'AbortError'))
    try {
      await this.transport.abort()
    } finally {
      if (this.file) this.store.clear(this.file)
    }
  }
}
