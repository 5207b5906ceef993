// Many files (or folders) into new resources of one dataset: a queue of files, each one
// a MultipartUpload, `filesConcurrency` at a time, with pause, resume, cancel and retry.
// Keys come from CKAN for many files per call (s3multipart_batch_keys, one prefix for the
// batch), STS credentials once per batch prefix, and finished files become resources up
// to 100 per call (s3multipart_resources_create). No DOM here: batch-module.js renders
// what `onChange` and `onProgress` report.
import { isSystemFile, relativePath } from './folders.js'

const KEYS_PER_CALL = 200 // files planned per s3multipart_batch_keys call (at most 1,000)
const RESOURCES_PER_CALL = 100 // the most s3multipart_resources_create takes
const FLUSH_EVERY = 20 // finished files that wait for their resources at most...
const FLUSH_AFTER = 2000 // ... and milliseconds

/**
 * One file of the batch. `state` is the DOM's data-state: queued, uploading, paused,
 * done, skipped or failed.
 * @typedef {{ id: number, file: File, name: string, size: number, state: string,
 *   loaded: number, message: string, resourceId?: string, plan?: object,
 *   upload?: import('./multipart.js').MultipartUpload }} BatchFile
 */

export class Batch {
  /**
   * @param {{ api: (action: string, data: object) => Promise<any>, dataset: string,
   *   present: Map<string, number>, filesConcurrency: number, includeSystem?: boolean,
   *   uploader: (item: BatchFile, placement: object) => import('./multipart.js').MultipartUpload,
   *   credentials: (prefix: string) => Promise<{answer: object, cache: object}>,
   *   onChange?: (item: BatchFile) => void, onIdle?: () => void,
   *   now?: () => number, setTimer?: typeof setTimeout }} options
   */
  constructor ({ api, dataset, present, filesConcurrency, includeSystem = false, uploader, credentials, onChange = () => {}, onIdle = () => {}, now = () => Date.now(), setTimer = (fn, ms) => setTimeout(fn, ms) }) {
    Object.assign(this, { api, dataset, present, filesConcurrency, includeSystem, uploader, onChange, onIdle, now, setTimer })
    this.items = []
    this.names = new Set()
    this.queue = [] // items waiting, in order
    this.running = new Set()
    this.paused = false
    this.cancelling = false // until every try a Cancel stopped has ended: no Resume
    this.prefix = null
    this.planning = null // the s3multipart_batch_keys call in flight
    this.keys = new Map() // key -> name, across calls (each call checks its own)
    this.finished = [] // [item, result] waiting for their resources
    this.flushing = null
    this.flushTimer = null
    this.prefixCredentials = new Map() // prefix -> Promise<{answer, cache}>
    this.fetchCredentials = credentials
  }

  // Queue files ([{file, name}]); system files, files the dataset has (same name and
  // size) and a second file of a name already queued are skipped, each with why.
  add (files) {
    const added = []
    for (const { file, name: given } of files) {
      const name = relativePath(given)
      const item = { id: this.items.length, file, name, size: file.size, state: 'queued', loaded: 0, message: '' }
      this.items.push(item)
      if (!this.includeSystem && isSystemFile(name)) {
        this.skip(item, 'a system file')
      } else if (this.present.get(name) === file.size) {
        this.skip(item, 'the dataset has it (same name and size)')
      } else if (this.names.has(name)) {
        item.duplicate = true // never retried: it would go to the other file's key
        this.fail(item, 'a file of this name is in the batch already')
      } else {
        this.names.add(name)
        this.queue.push(item)
      }
      added.push(item)
    }
    this.pump()
    return added
  }

  skip (item, why) {
    item.state = 'skipped'
    item.message = why
  }

  fail (item, why) {
    item.state = 'failed'
    item.message = why
    this.onChange(item)
  }

  set (item, state, message = '') {
    item.state = state
    item.message = message
    this.onChange(item)
  }

  // Start files until `filesConcurrency` are running; nothing starts while paused.
  pump () {
    while (!this.paused && this.running.size < this.filesConcurrency && this.queue.length) {
      const item = this.queue.shift()
      this.running.add(item)
      item.ended = this.run(item).finally(() => {
        this.running.delete(item)
        if (item.state === 'queued') this.queue.unshift(item) // resumed before it paused
        this.pump()
      })
    }
    this.idleCheck()
  }

  idleCheck () {
    if (!this.running.size && (this.paused || !this.queue.length)) {
      this.flush()
      if (!this.flushing && !this.finished.length) this.onIdle()
    }
  }

  // One try of one file: its key, its upload, then its place in the next resources call.
  // A pause or a cancel (`item.stopping`) ends the try where it is; `stopped` decides
  // what the file becomes then. A file uploaded whose resource could not be made keeps
  // its upload (`item.result`): a retry only makes the resource.
  async run (item) {
    this.set(item, 'uploading')
    try {
      if (item.result) return this.finish(item, item.result)
      await this.plan(item)
      if (item.stopping) return this.stopped(item)
      if (item.plan.error) return this.fail(item, item.plan.error)
      const placement = {
        name: item.name,
        prefix: this.prefix,
        plan: item.plan,
        credentials: (saved) => this.credentials(saved || this.prefix)
      }
      item.upload = this.uploader(item, placement)
      this.finish(item, await item.upload.upload(item.file))
    } catch (error) {
      if (item.stopping) return this.stopped(item)
      this.fail(item, error?.message || String(error))
    }
  }

  finish (item, result) {
    item.stopping = null // a pause or cancel that came too late: the file is in the store
    item.result = result
    item.loaded = item.size
    this.set(item, 'uploading', 'making the resource')
    this.finished.push([item, result])
    this.flushSoon()
  }

  // The end of a try that a pause or a cancel stopped. Resumed before the pause took
  // hold: queued, back at the head of the queue once the try has ended (pump).
  stopped (item) {
    const why = item.stopping
    item.stopping = null
    if (why === 'cancel') return this.set(item, 'failed', 'cancelled')
    this.set(item, this.paused ? 'paused' : 'queued')
  }

  // Keys for this file and the next queued ones without one, in one call.
  async plan (item) {
    while (!item.plan) {
      if (this.planning) {
        await this.planning
        continue
      }
      const chunk = [item, ...this.queue.filter((i) => !i.plan)].slice(0, KEYS_PER_CALL)
      this.planning = this.api('s3multipart_batch_keys', {
        id: this.dataset,
        files: chunk.map((i) => ({ name: i.name, size: i.size, content_type: i.file.type || undefined })),
        ...(this.prefix ? { prefix: this.prefix } : {})
      }).then((answer) => {
        this.prefix = answer.prefix
        chunk.forEach((i, n) => {
          const plan = answer.files[n]
          const other = plan.key && this.keys.get(plan.key)
          if (other && other !== i.name) {
            i.plan = { error: `would be stored at the same key as '${other}'; rename one of them` }
            return
          }
          if (plan.key) this.keys.set(plan.key, i.name)
          i.plan = plan
        })
      }).finally(() => { this.planning = null })
      await this.planning
    }
  }

  // The batch's credentials for a prefix (its own, or a resumed file's earlier batch):
  // one s3multipart_credentials call each, then renewed as they expire.
  credentials (prefix) {
    if (!this.prefixCredentials.has(prefix)) {
      const fetched = this.fetchCredentials(prefix)
      fetched.catch(() => this.prefixCredentials.delete(prefix)) // the next file asks again
      this.prefixCredentials.set(prefix, fetched)
    }
    return this.prefixCredentials.get(prefix)
  }

  flushSoon () {
    if (this.finished.length >= FLUSH_EVERY || (!this.running.size && !this.queue.length)) {
      this.flush()
    } else if (!this.flushTimer) {
      this.flushTimer = this.setTimer(() => { this.flushTimer = null; this.flush() }, FLUSH_AFTER)
    }
  }

  // Make the resources of the finished files, one call at a time. A file whose resource
  // CKAN refused fails, to be sent again; one that no answer covered keeps its upload.
  flush () {
    if (this.flushing || !this.finished.length) return
    const chunk = this.finished.splice(0, RESOURCES_PER_CALL)
    this.flushing = this.api('s3multipart_resources_create', {
      id: this.dataset,
      resources: chunk.map(([item, result]) => ({
        s3_key: result.key, name: item.name, hash: result.sha256, hash_algorithm: 'sha256'
      }))
    }).then((answer) => {
      chunk.forEach(([item], n) => {
        const made = answer.resources[n]
        if (made.error) {
          delete item.result
          return this.fail(item, made.error)
        }
        item.resourceId = made.id
        this.set(item, 'done')
      })
    }).catch((error) => {
      for (const [item] of chunk) {
        if (item.state === 'uploading') this.fail(item, `uploaded, but no resource was made: ${error.message}`)
      }
    }).finally(() => {
      this.flushing = null
      if (this.finished.length) this.flush()
      else this.idleCheck()
    })
  }

  // Nothing new starts; the files being sent stop where they are and wait as `paused`.
  pause () {
    this.paused = true
    for (const item of this.running) {
      item.stopping ||= 'pause'
      item.upload?.controller?.abort(new DOMException('Paused', 'AbortError'))
    }
  }

  // The paused files first (from the parts S3 holds), then the queue.
  resume () {
    if (this.cancelling) return // the cancel's own end lets the retried files go
    this.paused = false
    const paused = this.items.filter((i) => i.state === 'paused')
    for (const item of paused) this.set(item, 'queued')
    this.queue.unshift(...paused)
    this.pump()
  }

  // Abort every unfinished upload (S3 drops its parts); the resources made stay, and so
  // do those of the files already finished. Nothing starts until every try has ended.
  async cancel () {
    this.cancelling = true
    this.paused = true
    for (const item of this.queue.splice(0)) this.set(item, 'failed', 'cancelled')
    const paused = this.items.filter((i) => i.state === 'paused')
    for (const item of paused) this.set(item, 'failed', 'cancelled')
    const running = [...this.running]
    for (const item of running) item.stopping = 'cancel'
    await Promise.allSettled([
      ...[...running, ...paused].map((item) => item.upload?.cancel()),
      ...running.map((item) => item.ended)
    ])
    this.cancelling = false
    this.paused = false
    this.pump()
  }

  // A failed file goes back in the queue, with a new plan if it had none that worked.
  retry (item) {
    if (item.state !== 'failed' || item.duplicate || this.running.has(item)) return
    if (item.plan?.error) delete item.plan
    this.set(item, 'queued')
    this.queue.push(item)
    this.pump()
  }

  // The overall figures: bytes and files done of the total (skipped files left out).
  totals () {
    let total = 0
    let loaded = 0
    let files = 0
    let done = 0
    for (const item of this.items) {
      if (item.state === 'skipped') continue
      files += 1
      total += item.size
      if (item.state === 'done') {
        done += 1
        loaded += item.size
      } else if (item.state === 'uploading' || item.state === 'paused') {
        loaded += item.loaded
      }
    }
    return { total, loaded, files, done }
  }
}
