import { useEffect, useState } from 'preact/hooks'
import type { encode as Encode } from 'uqr'

/** uqr, loaded after the first render: the Start screen is usable before the code is drawn. */
let encoder: typeof Encode | undefined

/** A QR code as one SVG path (uqr encodes; no canvas, no image). */
export function qrPath (encode: typeof Encode, text: string): { size: number, d: string } {
  const qr = encode(text, { ecc: 'M', border: 2 })
  let d = ''
  qr.data.forEach((row, y) => {
    row.forEach((dark, x) => { if (dark) d += `M${x} ${y}h1v1h-1z` })
  })
  return { size: qr.size, d }
}

export function QrCode ({ text, label }: { text: string, label: string }) {
  const [encode, setEncode] = useState(() => encoder)
  useEffect(() => {
    if (encode != null) return
    void import('uqr').then(m => { encoder = m.encode; setEncode(() => m.encode) })
  }, [])
  // the same box (and name) while uqr loads, so nothing moves when it draws
  const { size, d } = encode == null ? { size: 1, d: '' } : qrPath(encode, text)
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} shape-rendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  )
}
