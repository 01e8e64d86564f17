// qrcode-terminal 0.12 ships no types.
declare module 'qrcode-terminal' {
  const qrcode: {
    generate: (text: string, opts?: { small?: boolean }, cb?: (code: string) => void) => void
  }
  export default qrcode
}
