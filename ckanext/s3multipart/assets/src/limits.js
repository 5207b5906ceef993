// S3's numeric limits, from the same file the server reads (s3_limits.json, through
// limits.py), and the one "is this file too large" rule, worded as limits.too_large.
import LIMITS from '../../s3_limits.json' with { type: 'json' }
import { formatExact } from './progress.js'

export const MIN_PART_SIZE = LIMITS.min_part_size
export const MAX_PART_SIZE = LIMITS.max_part_size
export const MAX_PARTS = LIMITS.max_parts
export const MAX_OBJECT_SIZE = LIMITS.max_object_size

// Why `file` may not be stored where `limit` bytes is the most, or null when it may
// (no limit: null).
export function tooLarge (file, limit) {
  if (!limit || file.size <= limit) return null
  return `${file.name} is ${formatExact(file.size)}; the largest file this site accepts is ${formatExact(limit)}`
}
