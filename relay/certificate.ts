import { createHash, X509Certificate } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { generate } from 'selfsigned'

/**
 * The relay's TLS certificate, made the way mkcert does it: a small local
 * certificate authority (kept in the data directory, trusted once on each
 * phone) signs a server certificate for the names and addresses the server
 * is reached by. When the names change (a new LAN address, another
 * `--name`), only the server certificate is made again: the phone keeps
 * trusting the same authority.
 */

export interface CertificateNames {
  dns: string[]
  ips: string[]
}

export interface TlsFiles {
  /** PEM: the server certificate, then the authority's. */
  cert: string
  key: string
  /** PEM of the authority a device must trust (absent for the operator's own certificate). */
  ca?: string
  /** Paths, to print. */
  certPath: string
  caPath?: string
  /** True when this start made a new server certificate. */
  created: boolean
}

const CA_FILE = 'fedra-ca.pem'
const CA_KEY_FILE = 'fedra-ca-key.pem'
const CERT_FILE = 'cert.pem'
const KEY_FILE = 'key.pem'
const DAY = 86_400_000
/** Apple accepts at most 825 days for a certificate under a user-installed authority. */
const SERVER_DAYS = 365
const CA_DAYS = 3650
/** Renew the server certificate when it has less than this left. */
const RENEW_BEFORE = 30 * DAY

/** Every name and address the certificate must cover. */
export function certificateNames (init: { host: string, names: string[], interfaceAddresses: string[], hostname?: string }): CertificateNames {
  const dns = new Set(['localhost', ...init.names.map(n => n.toLowerCase())])
  const ips = new Set(['127.0.0.1', '::1'])
  const wildcard = init.host === '0.0.0.0' || init.host === '::'
  if (isIP(init.host) !== 0 && !wildcard) ips.add(init.host)
  else if (isIP(init.host) === 0) dns.add(init.host.toLowerCase())
  if (wildcard) {
    for (const a of init.interfaceAddresses) {
      if (isIP(a) !== 0 && !a.toLowerCase().startsWith('fe80:')) ips.add(a)
    }
    // the machine's own name, and its mDNS name where the LAN resolves one
    if (init.hostname != null && /^[a-z0-9-]+$/i.test(init.hostname)) {
      dns.add(init.hostname.toLowerCase())
      dns.add(`${init.hostname.toLowerCase()}.local`)
    }
  }
  return { dns: [...dns], ips: [...ips] }
}

/** True when `pem` covers every name, is signed by `caPem` and stays valid long enough. */
export function certificateFits (pem: string, caPem: string, names: CertificateNames, now = Date.now()): boolean {
  try {
    const cert = new X509Certificate(pem)
    const ca = new X509Certificate(caPem)
    if (!cert.verify(ca.publicKey)) return false
    if (Date.parse(cert.validTo) - now < RENEW_BEFORE || Date.parse(cert.validFrom) > now) return false
    return names.dns.every(n => cert.checkHost(n, { wildcards: false }) === n) &&
      names.ips.every(ip => cert.checkIP(ip) === ip)
  } catch {
    return false
  }
}

/** base64 SHA-256 of the certificate's public key (SubjectPublicKeyInfo): what browsers pin. */
export function spkiHash (pem: string): string {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('base64')
}

async function readOrNull (path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null)
}

async function makeAuthority (now: number): Promise<{ cert: string, key: string }> {
  const pems = await generate([
    { name: 'commonName', value: 'Fedra local authority' },
    { name: 'organizationName', value: 'Fedra (this machine only)' }
  ], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY),
    notAfterDate: new Date(now + CA_DAYS * DAY),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
    ]
  })
  return { cert: pems.cert, key: pems.private }
}

async function makeServerCertificate (ca: { cert: string, key: string }, names: CertificateNames, now: number): Promise<{ cert: string, key: string }> {
  const pems = await generate([{ name: 'commonName', value: names.dns.find(n => n !== 'localhost') ?? 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY),
    notAfterDate: new Date(now + SERVER_DAYS * DAY),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names.dns.map(value => ({ type: 2 as const, value })), ...names.ips.map(ip => ({ type: 7 as const, ip }))]
      }
    ]
  })
  return { cert: pems.cert, key: pems.private }
}

/**
 * The generated certificate in `dataDir`: made on first start, made again
 * when it no longer covers `names` or is about to expire.
 */
export async function ensureCertificate (dataDir: string, names: CertificateNames, now = Date.now()): Promise<TlsFiles> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const caPath = join(dataDir, CA_FILE)
  const caKeyPath = join(dataDir, CA_KEY_FILE)
  const certPath = join(dataDir, CERT_FILE)
  const keyPath = join(dataDir, KEY_FILE)
  let caCert = await readOrNull(caPath)
  let caKey = await readOrNull(caKeyPath)
  if (caCert == null || caKey == null || Date.parse(new X509Certificate(caCert).validTo) - now < RENEW_BEFORE) {
    const ca = await makeAuthority(now)
    caCert = ca.cert
    caKey = ca.key
    await writeFile(caKeyPath, caKey, { mode: 0o600 })
    await writeFile(caPath, caCert)
  }
  let cert = await readOrNull(certPath)
  let key = await readOrNull(keyPath)
  let created = false
  if (cert == null || key == null || !certificateFits(cert, caCert, names, now)) {
    const made = await makeServerCertificate({ cert: caCert, key: caKey }, names, now)
    cert = made.cert
    key = made.key
    created = true
    await writeFile(keyPath, key, { mode: 0o600 })
    await writeFile(certPath, cert)
  }
  return { cert: `${cert.trim()}\n${caCert.trim()}\n`, key, ca: caCert, certPath, caPath, created }
}

/** The operator's own certificate and key (PEM files). */
export async function loadCertificate (certPath: string, keyPath: string): Promise<TlsFiles> {
  const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')])
  return { cert, key, certPath, created: false }
}
