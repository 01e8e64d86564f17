/** worker_threads entry: serves the pool over parentPort. */
import { parentPort } from 'node:worker_threads'
import { serveExecutor, type ToWorker } from './executor.js'

const port = parentPort
if (port == null) throw new Error('worker.node.ts must run as a worker thread')
serveExecutor({
  post: (msg, transfer) => { port.postMessage(msg, transfer) },
  listen: (handler) => { port.on('message', (msg: ToWorker) => { handler(msg) }) }
})
