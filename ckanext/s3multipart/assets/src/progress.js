// Byte-level progress: bytes done (finished parts plus what is in flight), speed over
// a sliding window, and time left.
export class Progress {
  constructor (total, { now = () => Date.now(), window = 5000 } = {}) {
    this.total = total
    this.now = now
    this.window = window
    this.finished = 0
    this.inFlight = new Map()
    this.samples = []
  }

  partLoaded (number, loaded) {
    this.inFlight.set(number, loaded)
  }

  partDone (number, size) {
    this.inFlight.delete(number)
    this.finished += size
  }

  partReset (number) {
    this.inFlight.delete(number)
  }

  snapshot () {
    let loaded = this.finished
    for (const bytes of this.inFlight.values()) loaded += bytes
    loaded = Math.min(loaded, this.total)
    const t = this.now()
    this.samples.push([t, loaded])
    while (this.samples.length > 2 && t - this.samples[0][0] > this.window) this.samples.shift()
    const [t0, b0] = this.samples[0]
    const speed = t > t0 ? Math.max(0, (loaded - b0) * 1000 / (t - t0)) : 0
    return {
      loaded,
      total: this.total,
      percent: this.total ? Math.floor(loaded * 100 / this.total) : 100,
      speed,
      secondsLeft: speed > 0 ? Math.ceil((this.total - loaded) / speed) : null
    }
  }
}

export function formatBytes (bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++ }
  const digits = i ? 1 : 0  // as sizes.human: whole bytes, else one decimal; 1,234 grouped
  return `${bytes.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${units[i]}`
}

// 10485760 -> '10.0 MiB (10,485,760 bytes)'; below 1 KiB just '5 bytes' (sizes.exact).
export function formatExact (bytes) {
  const count = `${bytes.toLocaleString('en-US')} bytes`
  return bytes >= 1024 ? `${formatBytes(bytes)} (${count})` : count
}

export function formatSeconds (seconds) {
  if (seconds === null) return '…'
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`
}
