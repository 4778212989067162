// End-to-end tests of the BUILT bundle (dist/) in headless Debian chromium,
// with the Tauri IPC mocked (mock-ipc.js). Run: npm run e2e

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ACTIVE, fixture, XSS_LINE } from './fixtures.mjs';
import { calls, cspViolations, DIST, emit, openApp, setup, SHOTS, until } from './harness.mjs';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src ipc: http://ipc.localhost; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

let env;
before(async () => {
  env = await setup();
});
after(async () => {
  await env?.close();
});

/** Open a page, run `body`, then check no page errors and no CSP violations happened. */
async function withApp(opts, body, { allowCsp = false } = {}) {
  const app = await openApp(env, opts);
  try {
    await body(app);
    if (!allowCsp) assert.deepEqual(await cspViolations(app.page), [], 'no CSP violations');
    const problems = allowCsp ? app.problems.filter((p) => !/violates the following Content Security Policy/.test(p)) : app.problems;
    assert.deepEqual(problems, [], 'no page or console errors');
  } finally {
    await app.context.close();
  }
}

const row = (page, id) => page.locator(`tr[data-session-id="${id}"]`);
const text = async (loc) => (await loc.innerText()).trim();

async function waitRows(page, n) {
  await until(async () => (await page.locator('[data-testid=session-row]').count()) === n, `${n} rows`);
}

function stateEvent(id, sessionId, state, kind = 'session.state') {
  const s = ACTIVE.find((x) => x.sessionId === sessionId);
  return { id, at: '2026-10-01T14:30:00Z', kind, sessionId, session: { ...s, state } };
}

describe('build output', () => {
  test('index.html carries the CSP and loads only external files', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const m = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/);
    assert.ok(m, 'CSP meta tag present');
    assert.equal(m[1], CSP);
    assert.doesNotMatch(html, /<style/i, 'no inline <style>');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline <script>');
    assert.doesNotMatch(html, /\sstyle=/i, 'no style attributes');
    assert.match(html, /<link rel="stylesheet"[^>]*href="\.\/assets\/[^"]+\.css"/, 'CSS emitted as a file, relative path');
    assert.match(html, /<script type="module"[^>]*src="\.\/assets\/[^"]+\.js"/, 'JS relative path');
    assert.doesNotMatch(html.replace(m[0], ''), /https?:\/\//, 'no remote URLs');
  });
});

describe('main window: Active', () => {
  test('renders the fixture sessions with agent, project, state and cost', async () => {
    await withApp({}, async ({ page }) => {
      await waitRows(page, 4);
      const lc = await calls(page, 'list_sessions');
      assert.deepEqual(lc[0].args, { filter: { active: true } });

      const c1 = row(page, 's-claude-1');
      assert.equal(await text(c1.locator('[data-testid=row-title]')), 'Fix flaky ingest test');
      assert.equal(await text(c1.locator('[data-testid=row-agent]')), 'Claude Code');
      assert.equal(await text(c1.locator('[data-testid=row-project]')), 'agentwatch');
      assert.equal(await c1.locator('[data-testid=row-project]').getAttribute('title'), '/home/dev/src/agentwatch');
      assert.match(await text(c1.locator('[data-testid=row-state]')), /^●\s*Working$/);
      assert.equal(await c1.locator('[data-testid=row-state] .badge').getAttribute('data-state'), 'working');
      assert.equal(await c1.getAttribute('data-state'), 'working');
      assert.equal(await text(c1.locator('[data-testid=row-cost]')), '$1.23');
      assert.equal(await text(c1.locator('[data-testid=row-tokens]')), '1.23M');
      assert.equal(await text(c1.locator('[data-testid=row-runtime]')), '2h 05m');

      const cx = row(page, 's-codex-1');
      assert.equal(await text(cx.locator('[data-testid=row-title]')), 'Codex');
      assert.equal(await text(cx.locator('[data-testid=row-project]')), 'website');
      // It asks permission: the badge says so, with the tool (as text).
      assert.match(await text(cx.locator('[data-testid=row-state]')), /Asks permission/);
      assert.equal(await cx.locator('[data-testid=row-state] .badge').getAttribute('data-waiting-for'), 'permission');
      assert.equal(await text(cx.locator('[data-testid=row-pending-tool]')), 'Bash(npm run deploy)');
      assert.equal(await text(cx.locator('[data-testid=row-cost]')), '—', 'unknown cost is a dash, not $0');
      assert.match(await cx.locator('[data-testid=row-cost]').getAttribute('title'), /Unknown price: gpt-9-experimental/);

      assert.equal(await text(row(page, 's-gemini-1').locator('[data-testid=row-project]')), 'notes');
      assert.equal(await text(row(page, 's-gemini-1').locator('[data-testid=row-cost]')), '<$0.01');
      assert.match(await text(row(page, 's-claude-2').locator('[data-testid=row-state]')), /Completed/);

      // default sort: runtime, longest first
      const order = await page.locator('[data-testid=session-row]').evaluateAll((els) => els.map((e) => e.dataset.sessionId));
      assert.deepEqual(order, ['s-gemini-1', 's-claude-1', 's-claude-2', 's-codex-1']);
      await page.screenshot({ path: join(SHOTS, 'main-active.png') });
    });
  });

  test('sorting, filtering and search', async () => {
    await withApp({}, async ({ page }) => {
      await waitRows(page, 4);
      const order = () => page.locator('[data-testid=session-row]').evaluateAll((els) => els.map((e) => e.dataset.sessionId));
      await page.selectOption('[data-testid=active-sort]', 'cost');
      assert.deepEqual(await order(), ['s-claude-2', 's-claude-1', 's-gemini-1', 's-codex-1'], 'cost desc, unknown last');
      await page.selectOption('[data-testid=active-state-filter]', 'waiting');
      assert.deepEqual(await order(), ['s-codex-1']);
      await page.selectOption('[data-testid=active-state-filter]', '');
      await page.selectOption('[data-testid=active-agent-filter]', 'claude-code');
      assert.deepEqual((await order()).sort(), ['s-claude-1', 's-claude-2']);
      await page.selectOption('[data-testid=active-agent-filter]', '');
      await page.fill('[data-testid=active-search]', 'website');
      assert.deepEqual(await order(), ['s-codex-1']);
      await page.fill('[data-testid=active-search]', 'no such thing');
      assert.equal(await text(page.locator('[data-testid=active-empty]')), 'No sessions match the filter.');
    });
  });

  test('live events update badges, insert rows; Clear completed reloads', async () => {
    await withApp({}, async ({ page }) => {
      await waitRows(page, 4);
      await emit(page, stateEvent(100, 's-claude-1', 'waiting'));
      const badge = row(page, 's-claude-1').locator('[data-testid=row-state]');
      await until(async () => /Waiting/.test(await badge.innerText()), 'badge → Waiting');
      assert.equal(await row(page, 's-claude-1').getAttribute('data-state'), 'waiting');

      // an older event for the same session is ignored
      await emit(page, stateEvent(99, 's-claude-1', 'idle'));
      await page.waitForTimeout(100);
      assert.match(await badge.innerText(), /Waiting/);

      // a session that dies stays visible
      await emit(page, stateEvent(101, 's-gemini-1', 'dead'));
      await until(async () => /Dead/.test(await row(page, 's-gemini-1').innerText()), 'gemini → Dead');

      // a new session is inserted
      const fresh = { ...ACTIVE[1], sessionId: 's-new', name: 'Brand new', state: 'working', costUsd: 0.42, unpricedModels: [] };
      await emit(page, { id: 102, at: '2026-10-01T14:30:00Z', kind: 'session.created', sessionId: 's-new', session: fresh });
      await waitRows(page, 5);
      assert.equal(await text(row(page, 's-new').locator('[data-testid=row-cost]')), '$0.42');

      // Clear completed: calls clear_completed, reloads list_sessions (the mock archives completed/dead)
      await page.click('[data-testid=clear-completed]');
      await until(async () => (await calls(page, 'clear_completed')).length === 1, 'clear_completed');
      await until(async () => (await calls(page, 'list_sessions')).length === 2, 'reload');
      await until(async () => (await row(page, 's-gemini-1').count()) === 0, 'dead row cleared');
      assert.equal(await row(page, 's-claude-2').count(), 0, 'completed row cleared');
      assert.match(await text(page.locator('[data-testid=active-notice]')), /Cleared 2 completed sessions/);
    });
  });

  test('kill asks for confirmation, then calls kill_session with the id', async () => {
    await withApp({}, async ({ page }) => {
      await waitRows(page, 4);
      const dialog = page.locator('[data-testid=kill-dialog]');
      await row(page, 's-codex-1').locator('[data-testid=row-kill]').click();
      await dialog.waitFor({ state: 'visible' });
      assert.match(await dialog.innerText(), /Kill session\?/);
      assert.match(await dialog.innerText(), /pid 5151/);
      assert.equal((await calls(page, 'kill_session')).length, 0, 'not killed before confirming');
      assert.equal((await calls(page, 'open_session_window')).length, 0, 'kill button does not open the row');

      await page.click('[data-testid=kill-cancel]');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal((await calls(page, 'kill_session')).length, 0, 'cancel does not kill');

      await row(page, 's-codex-1').locator('[data-testid=row-kill]').click();
      await dialog.waitFor({ state: 'visible' });
      await page.click('[data-testid=kill-confirm]');
      await dialog.waitFor({ state: 'hidden' });
      const kc = await calls(page, 'kill_session');
      assert.deepEqual(kc.map((c) => c.args), [{ id: 's-codex-1' }]);
      assert.equal(await text(page.locator('[data-testid=active-notice]')), 'Sent SIGTERM to Codex (pid 5151).');

      // a rejected kill shows the error message
      await page.evaluate(() => (window.__awFail.kill_session = 'permission denied'));
      await row(page, 's-claude-1').locator('[data-testid=row-kill]').click();
      await page.click('[data-testid=kill-confirm]');
      await until(async () => (await page.locator('[data-testid=active-notice]').innerText()).includes('permission denied'), 'error shown');
    });
  });

  test('keyboard: tabs, rows, Enter opens, Delete/k ask to kill, Escape closes', async () => {
    await withApp({}, async ({ page }) => {
      await waitRows(page, 4);
      // Tab from the start of the page reaches the tab list first
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-active');
      await page.keyboard.press('ArrowRight');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-history');
      assert.equal(await page.getAttribute('#tab-history', 'aria-selected'), 'true');
      assert.equal(await page.locator('#panel-history').isVisible(), true);
      await page.keyboard.press('End');
      assert.equal(await page.getAttribute('#tab-settings', 'aria-selected'), 'true');
      await page.keyboard.press('ArrowLeft');
      assert.equal(await page.getAttribute('#tab-agents', 'aria-selected'), 'true');
      await page.keyboard.press('Home');
      assert.equal(await page.getAttribute('#tab-active', 'aria-selected'), 'true');
      assert.equal(await page.locator('#panel-active').isVisible(), true);

      // keep tabbing until a row has focus
      let onRow = false;
      for (let i = 0; i < 20 && !onRow; i++) {
        await page.keyboard.press('Tab');
        onRow = await page.evaluate(() => document.activeElement?.dataset?.testid === 'session-row');
      }
      assert.ok(onRow, 'a row is reachable with Tab');
      const first = await page.evaluate(() => document.activeElement.dataset.sessionId);
      assert.equal(first, 's-gemini-1');
      const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.equal(ring, 'solid', 'visible focus ring');

      await page.keyboard.press('ArrowDown');
      assert.equal(await page.evaluate(() => document.activeElement.dataset.sessionId), 's-claude-1');
      await page.keyboard.press('Enter');
      await until(async () => (await calls(page, 'open_session_window')).length === 1, 'open_session_window');
      assert.deepEqual((await calls(page, 'open_session_window'))[0].args, { id: 's-claude-1' });

      const dialog = page.locator('[data-testid=kill-dialog]');
      await page.keyboard.press('Delete');
      await dialog.waitFor({ state: 'visible' });
      assert.match(await dialog.innerText(), /Fix flaky ingest test/);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await page.evaluate(() => document.activeElement.dataset.sessionId), 's-claude-1', 'focus returns to the row');

      await page.keyboard.press('k');
      await dialog.waitFor({ state: 'visible' });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal((await calls(page, 'kill_session')).length, 0);

      // Alt+3 jumps to Costs, Alt+4 to Agents, Alt+5 to Settings
      await page.keyboard.press('Alt+3');
      assert.equal(await page.getAttribute('#tab-costs', 'aria-selected'), 'true');
      await page.keyboard.press('Alt+4');
      assert.equal(await page.getAttribute('#tab-agents', 'aria-selected'), 'true');
      await page.keyboard.press('Alt+5');
      assert.equal(await page.getAttribute('#tab-settings', 'aria-selected'), 'true');
    });
  });

  test('dark theme follows prefers-color-scheme', async () => {
    await withApp({ colorScheme: 'dark' }, async ({ page }) => {
      await waitRows(page, 4);
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, 'rgb(22, 24, 28)');
      const fg = await page.evaluate(() => getComputedStyle(document.body).color);
      assert.equal(fg, 'rgb(230, 232, 236)');
      await page.screenshot({ path: join(SHOTS, 'main-active-dark.png') });
    });
    await withApp({ colorScheme: 'light' }, async ({ page }) => {
      await waitRows(page, 4);
      assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(247, 247, 248)');
    });
  });
});

describe('main window: History, Costs, Settings', () => {
  test('history: ranges, agent filter, search and paging', async () => {
    await withApp({}, async ({ page }) => {
      await page.click('#tab-history');
      await until(async () => (await page.locator('[data-testid=history-row]').count()) === 50, '50 history rows');
      await page.screenshot({ path: join(SHOTS, 'main-history.png') });
      assert.deepEqual((await calls(page, 'history'))[0].args, { range: '7d', limit: 50, offset: 0 });
      assert.equal(await text(page.locator('[data-testid=history-range-info]')), '1–50 of 120');

      await page.click('[data-testid=history-next]');
      await until(async () => (await text(page.locator('[data-testid=history-range-info]'))) === '51–100 of 120', 'page 2');
      assert.equal((await calls(page, 'history')).at(-1).args.offset, 50);
      await page.click('[data-testid=history-next]');
      await until(async () => (await text(page.locator('[data-testid=history-range-info]'))) === '101–120 of 120', 'page 3');
      assert.equal(await page.locator('[data-testid=history-next]').isDisabled(), true);

      await page.selectOption('[data-testid=history-range]', 'all');
      await until(async () => (await calls(page, 'history')).at(-1).args.range === 'all', 'range all');
      assert.equal((await calls(page, 'history')).at(-1).args.offset, 0, 'range change resets paging');

      await page.selectOption('[data-testid=history-agent]', 'codex');
      await until(async () => (await calls(page, 'history')).at(-1).args.agent === 'codex', 'agent filter');
      await until(async () => (await text(page.locator('[data-testid=history-range-info]'))) === '1–40 of 40', 'codex total');

      await page.fill('[data-testid=history-search]', 'session 10');
      await until(async () => (await calls(page, 'history')).at(-1).args.search === 'session 10', 'search arg');
      await until(async () => (await page.locator('[data-testid=history-row]').count()) === 5, 'search results');

      await page.locator('[data-testid=history-row]').first().click();
      await until(async () => (await calls(page, 'open_session_window')).length === 1, 'open from history');
    });
  });

  test('costs: totals, tables, unknown prices called out, budgets, blocks', async () => {
    await withApp({}, async ({ page }) => {
      await page.click('#tab-costs');
      const total = page.locator('[data-testid=cost-total]');
      await total.waitFor();
      assert.deepEqual((await calls(page, 'cost_summary'))[0].args, { range: 'today' });
      assert.equal(await text(total), '$12.34');

      const unpriced = await text(page.locator('[data-testid=unpriced-models]'));
      assert.match(unpriced, /Unknown price/);
      assert.match(unpriced, /gpt-9-experimental/);
      const modelRow = page.locator('[data-testid=cost-by-model] tr', { hasText: 'gpt-9-experimental' });
      assert.equal(await text(modelRow.locator('td').nth(2)), 'unknown price');
      assert.doesNotMatch(await modelRow.innerText(), /\$0\.00/);
      const agentRow = page.locator('[data-testid=cost-by-agent] tr', { hasText: 'Claude Code' });
      assert.equal(await text(agentRow.locator('td').nth(2)), '$10.00');
      assert.match(await page.locator('[data-testid=cost-by-project]').innerText(), /agentwatch/);
      assert.deepEqual(
        await page.locator('[data-testid=price-sources] li').allInnerTexts(),
        ['snapshot 2026-09-20', 'user override'],
      );

      // daily budget has a bar, monthly (no limit) has none
      assert.equal(await page.locator('[data-testid=budget-daily] progress').count(), 1);
      assert.equal(await page.locator('[data-testid=budget-daily] progress').getAttribute('value'), '61.7');
      assert.match(await page.locator('[data-testid=budget-daily]').innerText(), /\$12\.34 of \$20\.00/);
      assert.equal(await page.locator('[data-testid=budget-monthly] progress').count(), 0);
      assert.match(await page.locator('[data-testid=budget-monthly]').innerText(), /no limit set/);

      // active 5-hour block with burn rate and projection
      assert.match(await text(page.locator('[data-testid=burn-rate]')), /\$3\.11\/h/);
      assert.match(await text(page.locator('[data-testid=projection]')), /\$15\.55/);
      assert.match(await page.locator('[data-testid=active-block]').innerText(), /Unknown price: gpt-9-experimental/);
      assert.equal(await page.locator('[data-testid=blocks-table] tbody tr').count(), 1, 'gaps are not listed');

      // plan limits: a bar per window, the reset countdown, the forecast,
      // and a window that reset reads 0 % with the reading's age
      assert.equal(await calls(page, 'limits').then((c) => c.length >= 1), true);
      const five = page.locator('[data-testid=limit-claude-code-5h]');
      assert.match(await five.innerText(), /Claude · 5-hour/);
      assert.equal(await text(five.locator('[data-testid=limit-used]')), '83%');
      assert.equal(await five.locator('progress').getAttribute('value'), '83.4');
      assert.equal(
        await text(five.locator('[data-testid=limit-when]')),
        'resets in 2h 05m (16:35) · full in 40m at this rate',
      );
      assert.equal(await text(page.locator('[data-testid=limit-claude-code-week] [data-testid=limit-used]')), '21%');
      const codex = page.locator('[data-testid=limit-codex-5h]');
      assert.equal(await text(codex.locator('[data-testid=limit-used]')), '0%');
      assert.equal(await text(codex.locator('[data-testid=limit-when]')), 'reset · waiting for new readings · as of 6h 00m ago');

      // chart rendered by uPlot on a canvas
      assert.equal(await page.locator('[data-testid=daily-chart] canvas').count(), 1);

      await page.click('[data-testid=cost-range-7d]');
      await until(async () => (await text(total)) === '$61.07', '7d total');
      assert.equal((await calls(page, 'cost_summary')).at(-1).args.range, '7d');
      assert.equal(await page.locator('[data-testid=daily-table] tbody tr').count(), 7);
      await page.screenshot({ path: join(SHOTS, 'main-costs.png'), fullPage: true });

      // a usage event refreshes the visible costs
      const before = (await calls(page, 'cost_summary')).length;
      await emit(page, { id: 200, at: '2026-10-01T14:30:00Z', kind: 'usage', sessionId: 's-claude-1' });
      await until(async () => (await calls(page, 'cost_summary')).length > before, 'refresh on usage', 5000);
    });
  });

  test('agents: sessions and costs with where each comes from, never $0 where none is recorded', async () => {
    await withApp({}, async ({ page }) => {
      await page.click('#tab-agents');
      const found = page.locator('[data-testid=agents-found]');
      await found.waitFor();
      assert.equal((await calls(page, 'agents')).length, 1);
      const agentRow = (id) => page.locator(`tr[data-agent-id="${id}"]`);
      const cell = async (id, testid) => text(agentRow(id).locator(`[data-testid=${testid}]`));
      // found here first; the others folded away
      assert.deepEqual(
        await found.locator('tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.agentId)),
        ['claude-code', 'crush', 'aider', 'cursor-agent'],
      );
      assert.equal(await page.locator('[data-testid=agents-not-found]').isVisible(), false);

      const claude = agentRow('claude-code');
      assert.match(await claude.innerText(), /Claude Code/);
      assert.match(await claude.innerText(), /\/home\/dev\/\.claude\/projects/);
      assert.equal(await text(claude.locator('td').nth(2)), '12');
      assert.equal(await cell('claude-code', 'agent-cost-30d'), '$7.61');
      assert.equal(await cell('claude-code', 'agent-cost-all'), '$9.18');
      assert.equal(await cell('claude-code', 'agent-from'), 'transcript + priced');
      assert.match(
        await claude.locator('[data-testid=agent-cost-all]').getAttribute('title'),
        /\$9\.1800 · transcript \+ priced \(snapshot 2026-09-20 \+ transcript\)/,
      );

      // Crush: its own cost, no tokens; nothing in the last 30 days
      assert.equal(await cell('crush', 'agent-cost-all'), '$0.71');
      assert.equal(await cell('crush', 'agent-from'), 'cost only (tokens unknown)');
      assert.equal(await cell('crush', 'agent-cost-30d'), 'no usage');
      assert.equal(await text(agentRow('crush').locator('td').nth(6)), '—', 'tokens unknown');
      // Aider: rounded by Aider
      assert.equal(await cell('aider', 'agent-cost-30d'), '≈$0.19');
      assert.equal(await cell('aider', 'agent-from'), 'approximate');
      // Cursor: not recorded, never $0
      assert.equal(await cell('cursor-agent', 'agent-cost-30d'), 'not recorded');
      assert.equal(await cell('cursor-agent', 'agent-cost-all'), 'not recorded');
      assert.equal(await text(agentRow('cursor-agent').locator('[data-testid=agent-note]')), 'Cursor Agent: usage not recorded by Cursor');
      assert.doesNotMatch(await found.innerText(), /\$0\.00/);

      // the agents not found here, on request
      await page.click('details.others summary');
      const codex = agentRow('codex');
      await codex.waitFor();
      assert.equal(await cell('codex', 'agent-cost-all'), 'no usage');
      await page.screenshot({ path: join(SHOTS, 'main-agents.png'), fullPage: true });

      // a usage event refreshes the figures while the tab is shown
      const before = (await calls(page, 'agents')).length;
      await emit(page, { id: 201, at: '2026-10-01T14:30:00Z', kind: 'usage', sessionId: 's-claude-1' });
      await until(async () => (await calls(page, 'agents')).length > before, 'refresh on usage', 5000);
    });
  });

  test('agents: an error is said, not shown as empty figures', async () => {
    await withApp({}, async ({ page }) => {
      await waitRows(page, 4);
      await page.evaluate(() => (window.__awFail.agents = 'the daemon is too old for /api/agents'));
      await page.click('#tab-agents');
      const err = page.locator('[role=alert]', { hasText: 'Could not load agents' });
      await err.waitFor();
      assert.match(await err.innerText(), /too old/);
      assert.equal(await page.locator('[data-testid=agents-found]').count(), 0);
    });
  });

  test('settings: load, save, install with preview of the diff', async () => {
    await withApp({}, async ({ page }) => {
      await page.click('#tab-settings');
      const stale = page.locator('[data-testid=set-stale]');
      await stale.waitFor();
      assert.equal(await stale.inputValue(), '60');
      assert.equal(await page.locator('[data-testid=set-datadir]').inputValue(), '/home/dev/.local/share/agentwatch');
      assert.equal(await page.locator('[data-testid=set-datadir]').getAttribute('readonly'), '');
      assert.equal(await page.locator('[data-testid=set-pricefile]').inputValue(), '/home/dev/.config/agentwatch/prices.json');
      assert.equal(await page.locator('[data-testid=set-budget-monthly]').inputValue(), '');
      assert.equal(await page.locator('[data-testid=set-quiet-start]').inputValue(), '22:00');
      await until(async () => /not installed/.test(await page.locator('[data-testid=install-hooks-claude-code]').innerText()), 'status');
      // A row per agent install_options lists, in its order; a target the
      // agent has not is a dash, with no buttons, and is never previewed.
      const rows = await page.locator('[data-testid=install-table] tbody th').allInnerTexts();
      assert.deepEqual(rows, ['Claude Code', 'Codex', 'Gemini CLI', 'OpenCode', 'Qwen Code', 'Cursor Agent']);
      await until(async () => /not installed/.test(await page.locator('[data-testid=install-telemetry-gemini-cli]').innerText()), 'gemini');
      assert.equal(await text(page.locator('[data-testid=install-statusline-codex]')), '—');
      assert.equal(await page.locator('[data-testid=install-btn-statusline-codex]').count(), 0);
      assert.equal(await page.locator('[data-testid=install-btn-hooks-cursor-agent]').count(), 0);
      const previewed = (await calls(page, 'install_preview')).map((c) => `${c.args.target}:${c.args.agent}`).sort();
      assert.deepEqual(previewed, [
        'hooks:claude-code', 'hooks:codex', 'hooks:gemini-cli', 'hooks:opencode', 'hooks:qwen-code',
        'mcp-proxy:claude-code', 'mcp-proxy:codex', 'mcp-proxy:cursor-agent',
        'statusline:claude-code',
        'telemetry:claude-code', 'telemetry:codex', 'telemetry:gemini-cli',
      ]);
      await page.screenshot({ path: join(SHOTS, 'main-settings.png'), fullPage: true });

      await stale.fill('90');
      await page.fill('[data-testid=set-budget-daily]', '');
      await page.click('[data-testid=settings-save]');
      await until(async () => (await calls(page, 'save_settings')).length === 1, 'save_settings');
      const saved = (await calls(page, 'save_settings'))[0].args.settings;
      assert.equal(saved.staleAfterSecs, 90);
      assert.deepEqual(saved.budgets, { dailyUsd: null, monthlyUsd: null });
      assert.deepEqual(saved.notifications, { enabled: true, quietHours: { start: '22:00', end: '07:00' } });
      assert.equal(saved.idleAfterSecs, 120);
      await until(async () => (await text(page.locator('[data-testid=settings-msg]'))) === 'Settings saved.', 'saved message');

      // install: preview first, exact diff shown, apply on confirm
      await until(async () => /not installed/.test(await page.locator('[data-testid=install-hooks-claude-code]').innerText()), 'status');
      await page.click('[data-testid=install-btn-hooks-claude-code]');
      const dialog = page.locator('[data-testid=install-dialog]');
      await dialog.waitFor({ state: 'visible' });
      const diff = page.locator('[data-testid=install-diff]');
      await diff.waitFor();
      const diffText = await diff.innerText();
      assert.match(diffText, /\+\s+"hooks": \{/);
      assert.match(diffText, /^-  "theme": "dark"$/m);
      assert.match(await dialog.innerText(), /\/home\/dev\/\.claude\/settings\.json/);
      await page.screenshot({ path: join(SHOTS, 'install-preview.png') });
      const prev = (await calls(page, 'install_preview')).at(-1).args;
      assert.deepEqual(prev, { target: 'hooks', agent: 'claude-code', uninstall: false });
      assert.equal((await calls(page, 'install_apply')).length, 0, 'nothing applied before confirming');
      await page.click('[data-testid=install-apply]');
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual((await calls(page, 'install_apply'))[0].args, { target: 'hooks', agent: 'claude-code', uninstall: false });
      assert.equal(await text(page.locator('[data-testid=install-msg]')), 'Installed hooks for claude-code.');
      await until(async () => /✓ installed/.test(await page.locator('[data-testid=install-hooks-claude-code]').innerText()), 'installed');

      // uninstall previews with uninstall: true; Escape cancels
      await page.click('[data-testid=uninstall-btn-hooks-claude-code]');
      await dialog.waitFor({ state: 'visible' });
      await until(async () => (await calls(page, 'install_preview')).at(-1).args.uninstall === true, 'uninstall preview');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal((await calls(page, 'install_apply')).length, 1);
    });
  });
});

describe('session detail window', () => {
  test('identity, state history, models, and the transcript as inert text', async () => {
    await withApp({ query: 'session=s-claude-1', viewport: { width: 1100, height: 1000 } }, async ({ page }) => {
      await page.locator('[data-testid=detail-title]').waitFor();
      assert.deepEqual((await calls(page, 'get_session'))[0].args, { id: 's-claude-1' });
      assert.equal(await text(page.locator('[data-testid=detail-title]')), 'Fix flaky ingest test');
      assert.equal(await page.title(), 'Fix flaky ingest test — agentwatch');
      assert.equal(await text(page.locator('[data-testid=detail-pid]')), '4242');
      assert.equal(await text(page.locator('[data-testid=detail-cwd]')), '/home/dev/src/agentwatch');
      assert.equal(await text(page.locator('[data-testid=detail-runtime]')), '2h 05m');
      assert.equal(await text(page.locator('[data-testid=detail-heartbeat]')), 'Heartbeat: 3s ago');
      assert.equal(await text(page.locator('[data-testid=detail-cost]')), '$1.23');
      assert.equal(await text(page.locator('[data-testid=detail-limit-share]')), 'This session: about 31 % of your 5-hour window');
      assert.equal(await text(page.locator('[data-testid=detail-agent-cost]')), 'The agent counts $1.19 · context 42% used');
      assert.equal(
        await text(page.locator('[data-testid=detail-live-usage]')),
        "Live: +2 calls, $0.04 (from the agent's telemetry; not yet in its transcript or the total above)",
      );

      const hist = await page.locator('[data-testid=state-history] li').allInnerTexts();
      assert.equal(hist.length, 3);
      assert.match(hist[0], /12:25:00[\s\S]*Working[\s\S]*process started/);
      assert.match(hist[1], /Working[\s\S]*→[\s\S]*Asks permission[\s\S]*permission prompt[\s\S]*agent’s own status/);
      assert.match(hist[2], /Waiting[\s\S]*→[\s\S]*Working[\s\S]*user answered[\s\S]*a hook/);
      assert.match(await text(page.locator('[data-testid=detail-signal]')), /from the transcript/);

      const models = page.locator('[data-testid=detail-models] tbody tr');
      assert.equal(await models.count(), 3);
      assert.match(await models.nth(0).innerText(), /claude-sonnet-4-5[\s\S]*snapshot 2026-09-20[\s\S]*\$1\.20/);
      assert.match(await models.nth(2).innerText(), /mystery-model[\s\S]*unknown price/);

      // transcript: the hostile line is literal text, nothing ran
      const tailCall = (await calls(page, 'transcript_tail'))[0];
      assert.equal(tailCall.args.id, 's-claude-1');
      const transcript = page.locator('[data-testid=transcript]');
      await until(async () => (await transcript.innerText()).includes(XSS_LINE), 'XSS line shown as text');
      assert.equal(await transcript.locator('script, img').count(), 0, 'no elements created from text');
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      await page.waitForTimeout(200);
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      // auto-scrolled to the end, like a terminal
      const gap = await transcript.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
      assert.ok(gap < 8, `scrolled to bottom (gap ${gap})`);
      await page.screenshot({ path: join(SHOTS, 'session-detail.png'), fullPage: true });
    });
  });

  test('live: tool calls appended, transcript refreshed, state re-read, kill', async () => {
    await withApp({ query: 'session=s-claude-1' }, async ({ page }) => {
      await page.locator('[data-testid=detail-title]').waitFor();
      const feed = page.locator('[data-testid=tool-feed] li');
      await until(async () => (await feed.count()) === 3, '3 tool calls');
      await emit(page, {
        id: 300,
        at: '2026-10-01T14:30:00Z',
        kind: 'tool.call',
        sessionId: 's-claude-1',
        toolCall: { at: '2026-10-01T14:29:59Z', tool: 'mcp__github__create_pr', source: 'mcp', isError: false },
      });
      // events for other sessions are ignored
      await emit(page, {
        id: 301,
        at: '2026-10-01T14:30:00Z',
        kind: 'tool.call',
        sessionId: 's-codex-1',
        toolCall: { at: '2026-10-01T14:29:59Z', tool: 'shell', source: 'hook', isError: false },
      });
      await until(async () => (await feed.count()) === 4, 'tool call appended');
      assert.match(await feed.last().innerText(), /mcp__github__create_pr/);
      assert.doesNotMatch(await page.locator('[data-testid=tool-feed]').innerText(), /shell/);

      const tails = (await calls(page, 'transcript_tail')).length;
      const gets = (await calls(page, 'get_session')).length;
      await emit(page, { id: 302, at: '2026-10-01T14:30:00Z', kind: 'usage', sessionId: 's-claude-1' });
      await until(async () => (await calls(page, 'transcript_tail')).length > tails, 'transcript refreshed on usage');
      await until(async () => (await calls(page, 'get_session')).length > gets, 'costs re-read on usage');

      // user scrolled up: a refresh must not yank the view back down
      const transcript = page.locator('[data-testid=transcript]');
      await transcript.evaluate((el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event('scroll'));
      });
      await page.locator('[data-testid=tail-jump]').waitFor();
      const t2 = (await calls(page, 'transcript_tail')).length;
      await emit(page, stateEvent(303, 's-claude-1', 'working', 'session.updated'));
      await until(async () => (await calls(page, 'transcript_tail')).length > t2, 'transcript refreshed on session.updated');
      await page.waitForTimeout(100);
      assert.equal(await transcript.evaluate((el) => el.scrollTop), 0, 'stays where the user scrolled');

      const g2 = (await calls(page, 'get_session')).length;
      await emit(page, stateEvent(304, 's-claude-1', 'waiting'));
      await until(async () => /Waiting/.test(await page.locator('[data-testid=detail-state]').innerText()), 'state badge');
      // the state change re-reads get_session (state history comes from there); the feed keeps its 4 calls
      await until(async () => (await calls(page, 'get_session')).length > g2, 'get_session after session.state');
      await page.waitForTimeout(100);
      assert.match(await page.locator('[data-testid=detail-state]').innerText(), /Waiting/);
      assert.equal(await feed.count(), 4);

      await page.click('[data-testid=detail-kill]');
      const dialog = page.locator('[data-testid=kill-dialog]');
      await dialog.waitFor({ state: 'visible' });
      await page.click('[data-testid=kill-confirm]');
      await dialog.waitFor({ state: 'hidden' });
      assert.deepEqual((await calls(page, 'kill_session')).map((c) => c.args), [{ id: 's-claude-1' }]);
      assert.match(await text(page.locator('[data-testid=detail-notice]')), /Sent SIGTERM/);
    });
  });

  test('an unknown session id shows the error', async () => {
    await withApp({ query: 'session=nope' }, async ({ page }) => {
      await page.locator('[data-testid=detail-error]').waitFor();
      assert.match(await text(page.locator('[data-testid=detail-error]')), /no session nope/);
    });
  });
});

describe('content security policy', () => {
  test('blocks an inline script', async () => {
    await withApp(
      {},
      async ({ page }) => {
        await waitRows(page, 4);
        let threw = false;
        try {
          await page.addScriptTag({ content: 'window.__inlineRan = 1;' });
        } catch {
          threw = true;
        }
        await until(async () => (await cspViolations(page)).length > 0, 'securitypolicyviolation event');
        const v = await cspViolations(page);
        assert.ok(threw || v.length > 0);
        assert.ok(v.some((x) => x.effectiveDirective === 'script-src-elem' || x.violatedDirective.startsWith('script-src')), JSON.stringify(v));
        assert.equal(await page.evaluate(() => window.__inlineRan), undefined, 'inline script did not run');

        // inline styles are refused too
        await page.evaluate(() => {
          const s = document.createElement('style');
          s.textContent = 'body { background: rgb(1, 2, 3) !important; }';
          document.head.appendChild(s);
        });
        await until(async () => (await cspViolations(page)).some((x) => x.effectiveDirective.startsWith('style-src')), 'style violation');
        assert.notEqual(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(1, 2, 3)');
      },
      { allowCsp: true },
    );
  });
});

// Untrusted text reaches the UI from transcripts, agent processes (command
// lines, folder names) and MCP clients (session names). All of it must be
// shown as text: nothing parsed as markup, nothing run.
const ATTR_BREAK = '"><img src=x onerror="window.__pwned=3"><svg onload="window.__pwned=4">';

function hostileFixture() {
  const fx = structuredClone(fixture());
  const s = fx.active[0];
  Object.assign(s, {
    name: XSS_LINE,
    agentLabel: ATTR_BREAK,
    projectPath: `/home/dev/${ATTR_BREAK}`,
    command: XSS_LINE,
    model: ATTR_BREAK,
    models: [ATTR_BREAK],
    statusText: XSS_LINE,
    lastToolName: XSS_LINE,
    unpricedModels: [ATTR_BREAK],
  });
  const d = fx.details['s-claude-1'];
  d.session = s;
  d.toolCalls.push({ at: '2026-10-01T14:29:00Z', tool: XSS_LINE, source: 'mcp', isError: true });
  d.stateHistory.push({ at: '2026-10-01T14:29:30Z', from: 'working', to: 'waiting', reason: XSS_LINE });
  d.alerts.push({ ...d.alerts[0], id: 8, title: XSS_LINE, body: ATTR_BREAK, suppressed: XSS_LINE });
  d.models[0].modelName = ATTR_BREAK;
  fx.history[0].name = XSS_LINE;
  fx.history[0].projectPath = `/srv/${ATTR_BREAK}`;
  for (const c of Object.values(fx.costs)) {
    c.byProject[0] = { ...c.byProject[0], key: `/home/${ATTR_BREAK}`, label: XSS_LINE };
    c.byModel[2] = { ...c.byModel[2], key: ATTR_BREAK, label: ATTR_BREAK };
    c.unpricedModels = [ATTR_BREAK];
  }
  fx.transcripts['s-claude-1'].path = `/home/dev/${ATTR_BREAK}.jsonl`;
  // An agent the database names (an MCP client's name) and its folder.
  const a = fx.agents.agents[0];
  Object.assign(a, { name: XSS_LINE, usageNote: ATTR_BREAK, paths: [{ path: `/home/dev/${ATTR_BREAK}`, exists: true }] });
  a.allTime = { ...a.allTime, provenanceText: ATTR_BREAK, priceSource: XSS_LINE, unpricedModels: [ATTR_BREAK] };
  return fx;
}

/** Nothing from the data became an element or ran. */
async function assertInert(page) {
  const made = await page.evaluate(() => ({
    handlers: document.querySelectorAll('[onerror], [onload]').length,
    imgs: document.querySelectorAll('img').length,
    svgs: document.querySelectorAll('svg').length,
    inlineScripts: document.querySelectorAll('script:not([src])').length,
    pwned: window.__pwned,
  }));
  assert.deepEqual(made, { handlers: 0, imgs: 0, svgs: 0, inlineScripts: 0, pwned: undefined });
}

describe('untrusted text', () => {
  test('names, paths, commands, models and tools are shown as text in every view', async () => {
    await withApp({ fx: hostileFixture() }, async ({ page }) => {
      await waitRows(page, 4);
      const r = row(page, 's-claude-1');
      assert.equal(await text(r.locator('[data-testid=row-title]')), XSS_LINE);
      assert.equal(await text(r.locator('[data-testid=row-agent]')), ATTR_BREAK);
      assert.equal(await text(r.locator('[data-testid=row-project]')), ATTR_BREAK);
      assert.equal(await r.locator('[data-testid=row-project]').getAttribute('title'), `/home/dev/${ATTR_BREAK}`);
      assert.match(await r.innerText(), /window\.__pwned=3/);
      await assertInert(page);

      // the kill dialog quotes the name and folder
      await r.locator('[data-testid=row-kill]').click();
      const dialog = page.locator('[data-testid=kill-dialog]');
      await dialog.waitFor({ state: 'visible' });
      assert.ok((await dialog.innerText()).includes(XSS_LINE));
      assert.ok((await dialog.innerText()).includes(ATTR_BREAK));
      await assertInert(page);
      await page.click('[data-testid=kill-cancel]');

      // a session that arrives live
      const fresh = { ...ACTIVE[1], sessionId: 's-evil', name: ATTR_BREAK, projectPath: `/tmp/${XSS_LINE.replaceAll('/', '_')}` };
      await emit(page, { id: 500, at: '2026-10-01T14:30:00Z', kind: 'session.created', sessionId: 's-evil', session: fresh });
      await waitRows(page, 5);
      assert.equal(await text(row(page, 's-evil').locator('[data-testid=row-title]')), ATTR_BREAK);
      await assertInert(page);

      await page.click('#tab-history');
      await until(async () => (await page.locator('[data-testid=history-row]').count()) === 50, 'history rows');
      assert.ok((await page.locator('[data-testid=history-row]').first().innerText()).includes(XSS_LINE));
      await assertInert(page);

      await page.click('#tab-costs');
      await page.locator('[data-testid=cost-total]').waitFor();
      assert.ok((await page.locator('[data-testid=cost-by-project]').innerText()).includes(XSS_LINE));
      assert.ok((await page.locator('[data-testid=cost-by-model]').innerText()).includes(ATTR_BREAK));
      assert.ok((await page.locator('[data-testid=unpriced-models]').innerText()).includes(ATTR_BREAK));
      await assertInert(page);

      await page.click('#tab-agents');
      const agents = page.locator('[data-testid=agents-found]');
      await agents.waitFor();
      const first = await agents.locator('tbody tr').first().innerText();
      assert.ok(first.includes(XSS_LINE) && first.includes(`/home/dev/${ATTR_BREAK}`), first);
      assert.equal(await text(agents.locator('[data-testid=agent-from]').first()), ATTR_BREAK);
      assert.ok((await agents.locator('[data-testid=agent-cost-all]').first().getAttribute('title')).includes(XSS_LINE));
      await assertInert(page);
      await page.waitForTimeout(200);
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
    });
  });

  test('the detail window shows hostile tool names, reasons, alerts and paths as text', async () => {
    await withApp({ fx: hostileFixture(), query: 'session=s-claude-1' }, async ({ page }) => {
      await page.locator('[data-testid=detail-title]').waitFor();
      assert.equal(await text(page.locator('[data-testid=detail-title]')), XSS_LINE);
      assert.equal(await page.title(), `${XSS_LINE} — agentwatch`, 'the window title is text too');
      assert.equal(await text(page.locator('[data-testid=detail-agent]')), ATTR_BREAK);
      assert.equal(await text(page.locator('[data-testid=detail-cwd]')), `/home/dev/${ATTR_BREAK}`);
      await until(async () => (await page.locator('[data-testid=tool-feed] li').count()) === 4, 'tool calls');
      assert.ok((await page.locator('[data-testid=tool-feed] li').last().innerText()).includes(XSS_LINE));
      assert.ok((await page.locator('[data-testid=state-history]').innerText()).includes(XSS_LINE));
      const alerts = await page.locator('section.alerts').innerText();
      assert.ok(alerts.includes(XSS_LINE) && alerts.includes(ATTR_BREAK), alerts);
      assert.ok((await page.locator('[data-testid=detail-models]').innerText()).includes(ATTR_BREAK));
      const transcript = page.locator('[data-testid=transcript]');
      await until(async () => (await transcript.innerText()).includes(XSS_LINE), 'transcript');
      assert.ok((await page.locator('.transcript-card').innerText()).includes(`${ATTR_BREAK}.jsonl`));
      // a live tool call with a hostile name
      await emit(page, {
        id: 600,
        at: '2026-10-01T14:30:00Z',
        kind: 'tool.call',
        sessionId: 's-claude-1',
        toolCall: { at: '2026-10-01T14:30:00Z', tool: ATTR_BREAK, source: 'mcp', isError: false },
      });
      await until(async () => (await page.locator('[data-testid=tool-feed] li').count()) === 5, 'live tool call');
      assert.ok((await page.locator('[data-testid=tool-feed] li').last().innerText()).includes(ATTR_BREAK));
      await assertInert(page);
      await page.waitForTimeout(200);
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
    });
  });

  test('if markup ever got in, the CSP would still stop its script', async () => {
    // Simulates an XSS bug: markup inserted as HTML. Inline handlers and
    // javascript: URLs need 'unsafe-inline', eval needs 'unsafe-eval': the
    // policy has neither, so nothing runs and each attempt is reported.
    await withApp(
      {},
      async ({ page }) => {
        await waitRows(page, 4);
        await page.evaluate(() => {
          const box = document.createElement('div');
          box.id = 'injected';
          box.innerHTML =
            '<img src="data:image/png;base64,AAAA" onerror="window.__pwned=1">' +
            '<a id="jslink" href="javascript:window.__pwned=2">x</a>' +
            '<div id="clicky" onclick="window.__pwned=3">y</div>';
          document.body.appendChild(box);
        });
        await until(async () => (await cspViolations(page)).some((v) => v.effectiveDirective === 'script-src-attr'), 'inline handler refused');
        await page.click('#clicky');
        await page.click('#jslink');
        const evalResult = await page.evaluate(() => {
          // the page's own code calling eval (not the test harness's evaluate)
          const s = document.createElement('script');
          s.src = 'data:text/javascript,window.__pwned=4';
          document.head.appendChild(s);
          try {
            return window.setTimeout('window.__pwned=5', 0) && 'scheduled';
          } catch (e) {
            return String(e);
          }
        });
        await page.waitForTimeout(300);
        assert.equal(await page.evaluate(() => window.__pwned), undefined, `nothing ran (${evalResult})`);
        const v = await cspViolations(page);
        const directives = new Set(v.map((x) => x.effectiveDirective));
        for (const d of ['script-src-attr', 'script-src-elem']) assert.ok(directives.has(d), `${d} reported: ${JSON.stringify(v)}`);
      },
      { allowCsp: true },
    );
  });
});
