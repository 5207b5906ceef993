// Temporary credentials that renew themselves before they run out, so an upload
// that outlives them (6 hours with 60-minute credentials) goes on.

// Renew when less than a quarter of the lifetime, capped at 5 minutes, is left.
export function refreshAt (issuedAt, expiration) {
  const lifetime = expiration - issuedAt
  return expiration - Math.min(5 * 60 * 1000, Math.max(0, lifetime / 4))
}

export class CredentialCache {
  // fetchCredentials() resolves to {AccessKeyId, SecretAccessKey, SessionToken, Expiration}.
  constructor (fetchCredentials, { now = () => Date.now() } = {}) {
    this.fetchCredentials = fetchCredentials
    this.now = now
    this.current = null
    this.pending = null
  }

  needsRefresh () {
    return !this.current || this.now() >= this.current.refreshAt
  }

  // The SDK's credential shape, renewed first if due (or if `force`).
  async get (force = false) {
    if (force || this.needsRefresh()) {
      // One renewal at a time, whatever the number of parts asking.
      this.pending = this.pending || this.renew().finally(() => { this.pending = null })
      await this.pending
    }
    return this.current.identity
  }

  async renew () {
    const issuedAt = this.now()
    const c = await this.fetchCredentials()
    const expiration = new Date(c.Expiration)
    this.current = {
      refreshAt: refreshAt(issuedAt, expiration.getTime()),
      identity: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration
      }
    }
  }
}
