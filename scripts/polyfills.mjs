// Node 20 lacks Promise.withResolvers, which libp2p 3 uses. Loaded by
// scripts/node-preload.mjs (every Node entry point) and by vitest (setupFiles).
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
