// Part planning, the browser's copy of ckanext/s3multipart/parts.py (s3transfer's rule):
// start from the configured part size and double it until the file needs at most
// MAX_PARTS parts; an empty file is one empty part. The limits are limits.js's.
import { MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from './limits.js'
import { formatBytes } from './progress.js'

export const MiB = 1024 * 1024

export function planParts (size, partSize = MIN_PART_SIZE) {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid file size ${size}`)
  if (size > MAX_OBJECT_SIZE) throw new RangeError(`S3 objects are at most ${formatBytes(MAX_OBJECT_SIZE)}`)
  let chunk = partSize
  while (Math.ceil(size / chunk) > MAX_PARTS) chunk *= 2
  chunk = Math.min(Math.max(chunk, MIN_PART_SIZE), MAX_PART_SIZE)
  return { partSize: chunk, partCount: Math.max(1, Math.ceil(size / chunk)) }
}

// Byte range [start, end) of part `number` (1-based).
export function partRange (plan, size, number) {
  const start = (number - 1) * plan.partSize
  return { start, end: Math.min(size, start + plan.partSize) }
}
