// worker_threads entry. Plain JavaScript so that Node can start it with no
// loader: Node 20 does not apply `--import tsx` hooks to a worker's own entry
// file, so the TypeScript worker is loaded through tsx's API instead.
import { tsImport } from 'tsx/esm/api'

await tsImport('./worker.node.ts', import.meta.url)
