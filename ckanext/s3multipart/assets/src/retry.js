// When and how to retry a failed request: exponential backoff with full jitter
// (AWS's recommendation), a bounded number of tries, and a separate path for
// expired credentials or URLs, which need fresh ones rather than patience, and for a
// part the store refused as not the bytes its Content-MD5 names (sent again, re-read).
// The policy is the server's and the publisher's client's too (retry_policy.py).
import POLICY from '../../retry_policy.json' with { type: 'json' }

const RETRY_STATUS = new Set(POLICY.statuses)
const RETRY_CODES = new Set(POLICY.codes)
const REFRESH_CODES = new Set(POLICY.refresh_codes)
const DIGEST_CODES = new Set(POLICY.digest_codes)

export class UploadError extends Error {
  constructor (message, { status = 0, code = '', network = false } = {}) {
    super(message)
    this.name = 'UploadError'
    this.status = status
    this.code = code
    this.network = network
  }
}

// 'retry' (transient), 'refresh' (credentials or presigned URL expired), 'digest' (the
// store received other bytes than those hashed: sent again, read anew from the file, like
// a transient failure) or 'fatal'.
export function classify (error) {
  if (error?.name === 'AbortError') return 'fatal'
  const code = error?.code || error?.Code || error?.name
  const status = error?.status ?? error?.$metadata?.httpStatusCode ?? 0
  if (REFRESH_CODES.has(code)) return 'refresh'
  if (DIGEST_CODES.has(code)) return 'digest'
  // S3 says "Request has expired"; Ceph RGW answers a bare AccessDenied to an expired URL
  // and to an expired session token alike. Fresh ones, then the request again: a refusal
  // that persists ends after maxRefresh.
  if (status === 403 && (/expired/i.test(error?.message || '') || code === 'AccessDenied')) {
    return 'refresh'
  }
  if (error?.network || RETRY_STATUS.has(status) || RETRY_CODES.has(code)) return 'retry'
  if (error instanceof TypeError && /fetch|network/i.test(error.message)) return 'retry'
  return 'fatal'
}

// Milliseconds before the retry after `attempt` failures (0-based), as retry_policy.backoff.
export function backoffDelay (attempt, {
  base = POLICY.backoff_base_seconds * 1000, cap = POLICY.backoff_cap_seconds * 1000,
  random = Math.random
} = {}) {
  return Math.floor(random() * Math.min(cap, base * 2 ** attempt))
}

export const sleep = (ms, signal) => new Promise((resolve, reject) => {
  if (signal?.aborted) return reject(signal.reason)
  const timer = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason) }, { once: true })
})

// Run `attempt(n)` until it succeeds, retrying transient failures (and refused digests)
// up to `maxAttempts` tries in all and calling `refresh()` before retrying an expiry (at
// most `maxRefresh`). Without `refresh`, an expiry is final. The error that ends it has
// `tries`, the number of failed tries.
export async function withRetry (attempt, {
  maxAttempts = POLICY.attempts, maxRefresh = POLICY.refreshes, signal, onRetry = () => {}, refresh = null,
  wait = sleep, delay = backoffDelay
} = {}) {
  let failures = 0
  let refreshes = 0
  for (;;) {
    try {
      return await attempt(failures + refreshes)
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      const kind = classify(error)
      if (kind === 'refresh' && refresh && refreshes < maxRefresh) {
        refreshes += 1
        await refresh(error)
        continue
      }
      failures += 1
      // A refusal without CORS headers (Ceph RGW's 403 to an expired URL or session token)
      // reaches the page as a network error: after two in a row, fresh ones too.
      if (kind === 'retry' && error?.network && refresh && failures >= 2 &&
          refreshes < maxRefresh) {
        refreshes += 1
        await refresh(error)
      }
      const again = kind === 'retry' || kind === 'digest'
      if (!again || failures >= maxAttempts) {
        if (kind === 'retry') error.message = `${error.message} (gave up after ${failures} tries)`
        if (error && typeof error === 'object') error.tries = failures
        throw error
      }
      onRetry(error, failures)
      await wait(delay(failures - 1), signal)
    }
  }
}
