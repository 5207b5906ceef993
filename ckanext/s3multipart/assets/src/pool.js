// Run `work(item)` over `items` with at most `concurrency` in flight. The first
// failure stops the pool: nothing new starts and the failure is thrown once the
// running items have settled.
export async function runPool (items, concurrency, work, signal) {
  const queue = [...items]
  let failure = null
  async function worker () {
    while (queue.length && !failure && !signal?.aborted) {
      const item = queue.shift()
      try {
        await work(item)
      } catch (error) {
        failure = failure || error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker))
  if (failure) throw failure
  if (signal?.aborted) throw signal.reason
}
