// Loaded before any Fedra code in Node: libp2p 3 uses Promise.withResolvers,
// which Node 20 lacks; then TypeScript through tsx.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
await import('tsx/esm')
