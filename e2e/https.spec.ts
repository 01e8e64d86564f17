import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { spkiHash } from '../relay/certificate.js'
import { CHROMIUM, launchBrowser, openPage, startRelay, waitForMesh, withHostResolverRules } from './harness.js'
import type { Relay } from './harness.js'
import type { Browser } from 'playwright-core'

/**
 * Reachable from real devices: on a name that is not loopback, the app needs
 * HTTPS (a secure context: WebCrypto, WebCodecs, the camera) and the relay
 * WSS. `fedra.test` stands for a LAN name: Chromium maps it to 127.0.0.1,
 * and trusts the relay's generated certificate by its public key (as a
 * phone trusts it after installing the authority), so nothing leaves loopback.
 */
test.describe('the app on a network name', () => {
  let data = ''
  let secure: Relay | undefined
  let plain: Relay | undefined
  let browser: Browser | undefined
  let chromiumDir = ''

  test.beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'fedra-https-'))
    secure = await startRelay(undefined, ['--tls', '--name', 'fedra.test', '--data', data])
    plain = await startRelay(undefined, ['--name', 'fedra.test', '--no-qr'])
    const pin = spkiHash(readFileSync(secure.cert ?? '', 'utf8'))
    const launched = await launchBrowser(CHROMIUM, [
      ...withHostResolverRules(['MAP fedra.test 127.0.0.1']),
      `--ignore-certificate-errors-spki-list=${pin}`
    ])
    browser = launched.browser
    chromiumDir = launched.dataDir
  })

  test.afterAll(async () => {
    await browser?.close().catch(() => {})
    await secure?.stop()
    await plain?.stop()
    rmSync(data, { recursive: true, force: true })
    if (chromiumDir !== '') rmSync(chromiumDir, { recursive: true, force: true })
  })

  test('over HTTPS + WSS: a secure context, and two tabs join the room', async () => {
    test.setTimeout(60_000)
    if (secure == null || browser == null) throw new Error('no relay')
    expect(secure.url).toMatch(/^https:\/\/fedra\.test:\d+\/$/)
    const requests: string[] = []
    const a = await openPage(browser, secure.url, requests, { volunteer: false })
    const env = await a.page.evaluate(async () => ({
      secure: window.isSecureContext,
      subtle: typeof crypto.subtle?.digest,
      encoder: typeof VideoEncoder,
      config: await (await fetch('/fedra.json')).json() as { relays: string[], iceServers: unknown[] }
    }))
    expect(env).toMatchObject({ secure: true, subtle: 'function', encoder: 'function' })
    // the relay by the page's own name, over WSS; no ICE servers unless the operator sets them
    expect(env.config.relays).toEqual([expect.stringMatching(/^\/dns\/fedra\.test\/tcp\/\d+\/tls\/ws\/p2p\/12D3KooW/)])
    expect(env.config.iceServers).toEqual([])

    // the tabs meet through the relay, which an https:// page can reach only over wss://
    const b = await openPage(browser, a.page.url(), requests, { volunteer: false })
    await waitForMesh([a.page, b.page], 40_000)
    for (const url of requests) expect(new URL(url).hostname).toBe('fedra.test')

    // plain HTTP on the HTTPS port is sent to https://
    const redirected = await a.context.newPage()
    await redirected.goto(secure.url.replace('https:', 'http:') + 'fedra.json')
    expect(redirected.url()).toBe(`${secure.url}fedra.json`)
    await redirected.close()
  })

  test('over plain HTTP on a network name: the page says why it cannot run', async () => {
    test.setTimeout(30_000)
    if (plain == null || browser == null) throw new Error('no relay')
    expect(plain.url).toMatch(/^http:\/\/fedra\.test:\d+\/$/)
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(plain.url)
    const alert = page.locator('#insecure-context')
    await expect(alert).toContainText('plain HTTP on a network address (fedra.test)')
    await expect(alert).toContainText('camera, video codecs and encryption')
    await expect(alert).toContainText(`https://${new URL(plain.url).host}/`)
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false)
    await context.close()
  })
})
