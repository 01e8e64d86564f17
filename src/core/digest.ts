import { toHex } from './room/keys.js'

/** SHA-256 of bytes as lowercase hex (WebCrypto: standard in browsers and Node). */
export async function sha256Hex (bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)))
}
