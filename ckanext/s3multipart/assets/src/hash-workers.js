// The hashing workers of hasher.js, apart from the bundled worker source so that Node's
// tests can drive them with stand-ins: workers that hashed a whole file are kept for the
// next (a folder of 1,000 small files would otherwise start, and compile hash-wasm's
// WebAssembly in, 1,000 workers), and a worker that stops answering is replaced.
import { unreadableFile } from './errors.js'
import { UploadError } from './retry.js'

const MAX_IDLE = 4
// A worker says it is alive at least once a second while it reads (digest-worker.js).
// Chromium now and then leaves a worker's read of a file unanswered for minutes (one or
// two files in a 1,000-file benchmark run): after STALL_MS of silence the file is hashed
// again in a fresh worker, at most RESTARTS times.
export const STALL_MS = 15000
const RESTARTS = 2

/** A HashRunner (digests.js) on workers made by `makeWorker()`. */
export function hashWorkers (makeWorker, { stallMs = STALL_MS, setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  const idle = []
  return function run (file, plan, onPart) {
    let worker = null
    let finished = false
    let timer = null
    let delivered = 0 // parts passed on: a restarted worker's first ones are not again
    const promise = new Promise((resolve, reject) => {
      // A restart takes a new worker, never a kept one; `restarts` counts silences in a
      // row (a part passed on starts the count again).
      const start = (restarts, fresh = false) => {
        try {
          worker = (!fresh && idle.pop()) || makeWorker()
        } catch (error) { // a Content-Security-Policy without worker-src blob:, say
          return reject(new UploadError(`the checksum worker cannot start: ${error?.message || error}`))
        }
        const watch = () => {
          clearTimer(timer)
          timer = setTimer(() => {
            worker.terminate()
            if (restarts >= RESTARTS) reject(new UploadError(`the checksum worker stopped answering while reading ${file.name}`))
            else start(restarts + 1, true)
          }, stallMs)
        }
        worker.onmessage = ({ data }) => {
          watch()
          if (data.part > delivered) restarts = 0
          if (data.alive) return
          if (data.sha256) {
            clearTimer(timer)
            finished = true
            resolve(data.sha256)
          } else if (data.error) {
            clearTimer(timer)
            reject(new UploadError(data.changed ? unreadableFile(file.name) : `could not hash ${file.name}: ${data.error}`))
          } else if (data.part > delivered) {
            delivered = data.part
            onPart(data)
          }
        }
        worker.onerror = (event) => {
          clearTimer(timer)
          reject(new UploadError(`the checksum worker failed: ${event.message || 'unknown error'}`))
        }
        watch()
        worker.postMessage({ file, plan })
      }
      start(0)
    })
    // Done with its file, a worker waits for the next; one stopped half way is ended.
    promise.then(() => { if (idle.length < MAX_IDLE) idle.push(worker); else worker.terminate() },
      () => worker?.terminate())
    return {
      promise,
      stop: () => {
        clearTimer(timer)
        if (!finished) worker?.terminate()
      }
    }
  }
}
