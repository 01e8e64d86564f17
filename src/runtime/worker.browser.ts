/**
 * Web Worker entry: serves the pool over the worker's global scope. The
 * worker's composition root: besides functions and the built-in 'chain' it
 * runs the 'video-unit' program (src/media/unit-program.ts: WebCodecs and a
 * filter chain in this worker), whose code loads with the first unit.
 */
import { serveExecutor, type ToWorker } from './executor.js'

const scope = self as unknown as DedicatedWorkerGlobalScope
serveExecutor({
  post: (msg, transfer) => { scope.postMessage(msg, transfer) },
  listen: (handler) => { scope.addEventListener('message', (ev: MessageEvent<ToWorker>) => { handler(ev.data) }) }
}, {
  programs: {
    'video-unit': async () => (await import('../media/unit-program.js')).videoUnitProgram
  }
})
