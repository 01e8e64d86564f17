/**
 * Demo inputs made by code, so every tab (and every test) has the same
 * bytes without shipping media: a colourful 512×384 test card and a text.
 */
export function demoImage (width = 512, height = 384): Uint8Array {
  const px = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4
      const cx = x - width / 2
      const cy = y - height / 2
      const ring = Math.floor(Math.sqrt(cx * cx + cy * cy) / 24) % 2
      const band = Math.floor(x / (width / 8))
      px[i] = ring === 1 ? (band * 37) & 255 : (x * 255 / width) | 0
      px[i + 1] = ring === 1 ? (band * 91) & 255 : (y * 255 / height) | 0
      px[i + 2] = ((x ^ y) & 0x3f) * 4
      px[i + 3] = 255
    }
  }
  return px
}

const WORDS = ('the quick brown fox jumps over the lazy dog friends at the beach record a video rain is coming ' +
  'everyone heads home the desktop carries on peers join and leave nothing is lost fedra pools compute ' +
  'città perché naïve café über straße 2026 wasm webrtc helia').split(' ')

/** A deterministic text of about `bytes` bytes (a linear congruential word picker). */
export function demoText (bytes = 64 * 1024): Uint8Array {
  let seed = 42
  const parts: string[] = []
  let size = 0
  while (size < bytes) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    const w = WORDS[seed % WORDS.length]
    const sep = seed % 11 === 0 ? '.\n' : seed % 5 === 0 ? ', ' : ' '
    const word = seed % 7 === 0 ? w.toUpperCase() : w
    parts.push(word, sep)
    size += word.length + sep.length
  }
  return new TextEncoder().encode(parts.join(''))
}
