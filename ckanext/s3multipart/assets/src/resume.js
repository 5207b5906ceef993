// Which parts S3 already holds for an upload being resumed. A listed part counts
// only if its size is what the plan expects for that part number, so a part cut
// short by a crash is sent again.
import { partRange } from './plan.js'

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
