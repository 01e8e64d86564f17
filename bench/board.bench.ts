import { readFileSync } from 'node:fs'
import { freePort, startQemu } from '../e2e/harness.js'
import { findFilter } from '../src/filters/catalog.js'
import { BoardClient } from '../src/mcu/board-client.js'
import { boardKey } from '../src/mcu/board-runner.js'
import { openTcpLink } from '../src/mcu/link-tcp.node.js'
import { rawCid } from '../src/storage/blocks.js'
import { table } from './stats.js'

/**
 * The built-in filters on the real firmware in QEMU (-icount shift=0): TIM2
 * counts one tick per guest instruction, so per-task and per-byte costs are
 * exact and repeat from run to run. Each task goes through the whole ABI:
 * alloc, copy in, filter, copy out.
 */
async function connect (port: number): Promise<BoardClient> {
  for (let i = 0; ; i++) {
    try {
      return new BoardClient(await openTcpLink('127.0.0.1', port))
    } catch (err) {
      if (i > 50) throw err
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}

async function main (): Promise<void> {
  const port = await freePort()
  const qemu = startQemu(port)
  const board = await connect(port)
  try {
    const caps = await board.hello()
    const rows: Array<Record<string, string>> = []
    for (const name of ['grayscale', 'invert', 'pixelate', 'blur', 'sobel']) {
      const entry = findFilter(name)
      if (entry == null) continue
      const module = new Uint8Array(readFileSync(`public/filters/${entry.wasm}`))
      const key = boardKey(await rawCid(module))
      await board.ensureModule(key, module)
      for (const side of [8, 13]) {
        const input = Uint8Array.from({ length: side * side * 4 }, (_, i) => (i * 37) & 255)
        const r = await board.run({ key, entry: entry.entry, input, params: entry.encodeParams({ width: side, height: side }) })
        rows.push({
          filter: name,
          tile: `${side}×${side}`,
          'input bytes': String(input.byteLength),
          'wasm ops': r.instructions.toString(),
          'guest instr / task': String(r.cycles),
          'guest instr / input byte': (r.cycles / input.byteLength).toFixed(1),
          'guest instr / wasm op': (r.cycles / Number(r.instructions)).toFixed(2)
        })
      }
    }
    console.log(`\nFilters on the board (${caps.chip}, QEMU -icount shift=0, TIM2 = guest instructions), module sizes ≤ ${caps.maxModule} B\n`)
    console.log(table(rows))
  } finally {
    await board.close()
    await qemu.stop()
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
