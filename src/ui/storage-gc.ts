/**
 * Each room keeps its blocks in its own IndexedDB database. Rooms not opened
 * for a while are deleted whole at start-up, so a phone does not fill up
 * with the tiles of every beach day it ever joined. The index of rooms and
 * when they were last used lives in localStorage.
 */
const INDEX_KEY = 'fedra-rooms'
const DEFAULT_MAX_IDLE_MS = 7 * 24 * 3600_000

export function blockDbName (roomId: string): string {
  return `fedra-blocks-${roomId}`
}

export async function collectIdleRooms (currentRoomId: string, maxIdleMs = DEFAULT_MAX_IDLE_MS): Promise<string[]> {
  let index: Record<string, number> = {}
  try {
    index = JSON.parse(localStorage.getItem(INDEX_KEY) ?? '{}') as Record<string, number>
  } catch {}
  const now = Date.now()
  const gone: string[] = []
  for (const [roomId, lastUsed] of Object.entries(index)) {
    if (roomId === currentRoomId || now - lastUsed < maxIdleMs) continue
    await new Promise<void>(resolve => {
      const req = indexedDB.deleteDatabase(blockDbName(roomId))
      req.onsuccess = req.onerror = req.onblocked = () => { resolve() }
    })
    delete index[roomId]
    gone.push(roomId)
  }
  index[currentRoomId] = now
  localStorage.setItem(INDEX_KEY, JSON.stringify(index))
  return gone
}
