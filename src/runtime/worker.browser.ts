/** Web Worker entry: serves the pool over the worker's global scope. */
import { serveExecutor, type ToWorker } from './executor.js'

const scope = self as unknown as DedicatedWorkerGlobalScope
serveExecutor({
  post: (msg, transfer) => { scope.postMessage(msg, transfer) },
  listen: (handler) => { scope.addEventListener('message', (ev: MessageEvent<ToWorker>) => { handler(ev.data) }) }
})
