// Which parts S3 already holds for an upload being resumed. A listed part is a candidate
// only if its size is what the plan expects for that part number (a part cut short by a
// crash is sent again), and it is kept only if its ETag is the MD5 of the local bytes
// (a part that holds other bytes is sent again), as the publisher's client decides.
import { partRange } from './plan.js'

// `done`: {part number: ETag} of the listed parts whose size fits the plan (each still to
// be checked with holdsBytes); `todo`: the other part numbers. As
// client/transfer.merge_listed.
export function mergeListedParts (plan, size, listed) {
  const done = new Map()
  for (const part of listed) {
    const number = Number(part.part_number ?? part.PartNumber)
    if (!Number.isInteger(number) || number < 1 || number > plan.partCount) continue
    const { start, end } = partRange(plan, size, number)
    if (Number(part.size ?? part.Size) === end - start) done.set(number, part.etag ?? part.ETag)
  }
  const todo = []
  for (let n = 1; n <= plan.partCount; n++) if (!done.has(n)) todo.push(n)
  return { done, todo }
}

// Whether a stored part with this ETag holds the bytes whose MD5 is `md5` (hex). An
// ETag that is not an MD5 (encrypted with SSE-KMS, or a store's own form) proves nothing
// either way: the size already matched, so the part is kept.
export function holdsBytes (etag, md5) {
  const tag = String(etag ?? '').replace(/"/g, '').toLowerCase()
  return !/^[0-9a-f]{32}$/.test(tag) || tag === md5
}
