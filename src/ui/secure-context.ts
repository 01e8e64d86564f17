/**
 * Browsers give the camera, WebCodecs and WebCrypto (`crypto.subtle`) only
 * to secure contexts: https:// pages, and http:// on this machine's own
 * loopback (localhost, 127.0.0.1). A phone that opens the app as
 * `http://192.168.1.5:8080` gets none of them, and Fedra cannot work there.
 * This says so in words instead of failing later with an undefined.
 */

export type PageLocation = Pick<Location, 'protocol' | 'host' | 'hostname' | 'pathname' | 'search' | 'hash'>

/** The same page over https:// (same host and port: the relay answers both on one port). */
export function secureUrlFor (loc: PageLocation): string {
  return `https://${loc.host}${loc.pathname}${loc.search}${loc.hash}`
}

/** Why the page cannot run, or null when it is a secure context. */
export function insecureContextMessage (loc: PageLocation, isSecureContext: boolean): string | null {
  if (isSecureContext) return null
  const how = loc.protocol === 'http:'
    ? `This page was opened over plain HTTP on a network address (${loc.hostname})`
    : `This page is not a secure context (${loc.protocol}//${loc.hostname})`
  return `${how}, so the browser hides the camera, video codecs and encryption Fedra needs. ` +
    `Open ${secureUrlFor(loc)} instead (the relay serves HTTPS when started with --host 0.0.0.0 or --tls), ` +
    'or open http://localhost on the computer that runs it.'
}
