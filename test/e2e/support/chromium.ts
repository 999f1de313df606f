import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium, which `.ci/run` installs; browser tests skip (with a warning) without it. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test/artifacts');

export const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(`Browser tests skipped: no Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium).`);

/** Builds the console when its sources changed, as `npm start` does. */
export async function buildConsoleIfStale(): Promise<void> {
  await promisify(execFile)(process.execPath, [path.resolve('console/build.ts'), '--if-stale']);
}

/** Headless, and without the background connections this machine's closed network refuses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A story's last screen, kept under test/artifacts. */
export function saveScreenshot(page: Page, name: string): Promise<Buffer> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * axe-core's serious and critical violations on the page as it is now, one line each naming `screen`.
 * Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not refuse it.
 */
export async function seriousAxeViolations(page: Page, screen: string): Promise<string[]> {
  await page.evaluate(fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: () => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
      }
    ).axe;
    return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${screen}: ${violation.id} (${violation.impact}, ${violation.nodes} node(s))`);
}

/**
 * Opens a sign-in link and presses its Sign in button (opening it alone signs nobody in), then
 * waits for the inbox the person lands on.
 */
export async function signInThroughLink(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/inbox$/);
}
