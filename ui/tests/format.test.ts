import { describe, expect, it } from 'vitest';
import {
  agentCost,
  budgetPercent,
  formatBytes,
  formatCost,
  formatCostOrUnknown,
  formatCostPrecise,
  formatCountdown,
  formatDuration,
  formatInt,
  formatMinutes,
  formatTokens,
  projectName,
  runtimeSeconds,
  sessionCost,
  sessionTitle,
  tickingAge,
  windowLabel,
  truncate,
} from '../src/lib/format';
import type { AgentUsage } from '../src/lib/types';

describe('formatCost', () => {
  it('shows a dash for unknown (null) costs, never $0', () => {
    expect(formatCost(null)).toBe('—');
    expect(formatCost(undefined)).toBe('—');
    expect(formatCost(Number.NaN)).toBe('—');
    expect(formatCostOrUnknown(null)).toBe('unknown price');
  });
  it('formats dollars with two decimals and separators', () => {
    expect(formatCost(0)).toBe('$0.00');
    expect(formatCost(1.5)).toBe('$1.50');
    expect(formatCost(1234.567)).toBe('$1,234.57');
    expect(formatCostOrUnknown(12.3)).toBe('$12.30');
  });
  it('marks tiny non-zero costs instead of rounding to zero', () => {
    expect(formatCost(0.004)).toBe('<$0.01');
    expect(formatCost(0.01)).toBe('$0.01');
    expect(formatCostPrecise(0.004)).toBe('$0.0040');
    expect(formatCostPrecise(null)).toBe('—');
  });
});

describe('formatTokens / formatInt', () => {
  it('compacts large counts', () => {
    expect(formatTokens(0)).toBe('0');
    expect(formatTokens(999)).toBe('999');
    expect(formatTokens(1000)).toBe('1k');
    expect(formatTokens(1500)).toBe('1.5k');
    expect(formatTokens(12_345)).toBe('12.3k');
    expect(formatTokens(123_456)).toBe('123k');
    expect(formatTokens(1_250_000)).toBe('1.25M');
    expect(formatTokens(2_000_000_000)).toBe('2B');
    expect(formatTokens(null)).toBe('—');
  });
  it('groups integers', () => {
    expect(formatInt(1234567)).toBe('1,234,567');
    expect(formatInt(null)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('picks two units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45.9)).toBe('45s');
    expect(formatDuration(65)).toBe('1m 05s');
    expect(formatDuration(3600)).toBe('1h 00m');
    expect(formatDuration(2 * 3600 + 5 * 60 + 59)).toBe('2h 05m');
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe('3d 04h');
  });
  it('clamps negatives and rejects non-numbers', () => {
    expect(formatDuration(-5)).toBe('0s');
    expect(formatDuration(null)).toBe('—');
    expect(formatMinutes(90)).toBe('1h 30m');
  });
});

describe('misc', () => {
  it('projectName takes the last path component', () => {
    expect(projectName('/home/u/src/agentwatch')).toBe('agentwatch');
    expect(projectName('/home/u/src/agentwatch/')).toBe('agentwatch');
    expect(projectName('C:\\Users\\u\\proj')).toBe('proj');
    expect(projectName('/')).toBe('/');
    expect(projectName(null)).toBe('—');
  });
  it('truncate keeps short strings and ellipsises long ones', () => {
    expect(truncate('claude', 10)).toBe('claude');
    expect(truncate('claude --resume abc', 10)).toBe('claude --…');
    expect(Array.from(truncate('ééééééééééé', 5)).length).toBe(5);
    expect(truncate(null, 5)).toBe('—');
  });
  it('formatBytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
  it('sessionTitle prefers the name, then the agent label', () => {
    expect(sessionTitle({ name: 'fix tests', agentLabel: 'Codex', agent: 'codex' })).toBe('fix tests');
    expect(sessionTitle({ name: '  ', agentLabel: 'Codex', agent: 'codex' })).toBe('Codex');
    expect(sessionTitle({ name: null, agentLabel: '', agent: 'codex' })).toBe('codex');
  });
  it('runtimeSeconds ticks for live sessions only', () => {
    const start = Date.parse('2026-10-01T10:00:00Z');
    const live = { startedAt: '2026-10-01T10:00:00Z', endedAt: null, durationSeconds: 100, live: true };
    expect(runtimeSeconds(live, start + 600_000)).toBe(600);
    // never below what the Rust side said
    expect(runtimeSeconds(live, start + 10_000)).toBe(100);
    expect(runtimeSeconds({ ...live, live: false }, start + 600_000)).toBe(100);
    expect(runtimeSeconds({ ...live, endedAt: '2026-10-01T10:01:40Z' }, start + 600_000)).toBe(100);
  });
  it('tickingAge advances from the fetch time', () => {
    expect(tickingAge(5, 1000, 4000)).toBe(8);
    expect(tickingAge(null, 1000, 4000)).toBeNull();
  });
  it('budgetPercent clamps and is null without a limit', () => {
    expect(budgetPercent(5, 10)).toBe(50);
    expect(budgetPercent(15, 10)).toBe(100);
    expect(budgetPercent(5, null)).toBeNull();
    expect(budgetPercent(5, 0)).toBeNull();
  });
});

describe('plan windows', () => {
  const now = Date.parse('2026-10-01T14:30:00Z');
  it('counts down to a reset, and says nothing of one that passed', () => {
    expect(formatCountdown('2026-10-01T16:35:00Z', now)).toBe('2h 05m');
    expect(formatCountdown('2026-10-01T14:42:30Z', now)).toBe('12m');
    expect(formatCountdown('2026-10-01T14:30:20Z', now)).toBe('<1m');
    expect(formatCountdown('2026-10-04T15:30:00Z', now)).toBe('3d 01h');
    expect(formatCountdown('2026-10-01T14:00:00Z', now)).toBe('—');
    expect(formatCountdown(null, now)).toBe('—');
  });
  it('names windows by length', () => {
    expect([windowLabel(300, '5h'), windowLabel(10080, 'week'), windowLabel(1440, '1d')]).toEqual(['5-hour', 'weekly', '1d']);
  });
});

describe('sessionCost', () => {
  const base = { costUsd: 0.5, priceSource: 'transcript', unpricedModels: [], usageKind: 'tokens' as const, usageNote: null };
  it('shows a cost the agent never recorded as that, never as $0', () => {
    const c = sessionCost({
      ...base,
      costUsd: null,
      priceSource: null,
      usageKind: 'not-recorded',
      usageNote: 'Cursor Agent: usage not recorded by Cursor',
    });
    expect(c).toEqual({ text: 'not recorded', title: 'Cursor Agent: usage not recorded by Cursor' });
  });
  it('marks a cost the agent rounded, and says so in the title', () => {
    const note = 'Aider: tokens and cost per call, as rounded by Aider';
    const c = sessionCost({ ...base, costUsd: 0.15, usageKind: 'approximate', usageNote: note });
    expect(c.text).toBe('≈$0.15');
    expect(c.title).toBe(`$0.1500 · transcript · ${note}`);
  });
  it('keeps the price source and the unpriced models of a plain session', () => {
    expect(sessionCost(base)).toEqual({ text: '$0.50', title: '$0.5000 · transcript' });
    expect(sessionCost({ ...base, costUsd: null, unpricedModels: ['m1'] })).toEqual({
      text: '—',
      title: 'Unknown price: m1',
    });
  });
});

describe('agentCost', () => {
  const u = (over: Partial<AgentUsage>): AgentUsage => ({
    calls: 1,
    tokens: null,
    costUsd: null,
    provenance: 'priced',
    provenanceText: 'priced',
    priceSource: null,
    unpricedModels: [],
    ...over,
  });
  it('says what the core says where nothing was recorded or used, never $0', () => {
    expect(agentCost(u({ provenance: 'not-recorded', provenanceText: 'not recorded' }))).toEqual({
      text: 'not recorded',
      title: 'not recorded',
    });
    expect(agentCost(u({ provenance: 'no-usage', provenanceText: 'no usage' })).text).toBe('no usage');
    expect(
      agentCost(u({ provenance: 'unpriced', provenanceText: 'unknown price', unpricedModels: ['m-9'] })),
    ).toEqual({ text: 'unknown price', title: 'unknown price · unpriced: m-9' });
  });
  it('marks a cost the agent rounded with ≈, and says where each comes from', () => {
    const aider = u({
      costUsd: 0.19,
      provenance: 'approximate',
      provenanceText: 'approximate',
      priceSource: 'snapshot 2026-09-20 + transcript',
    });
    expect(agentCost(aider)).toEqual({
      text: '≈$0.19',
      title: '$0.1900 · approximate (snapshot 2026-09-20 + transcript)',
    });
    const crush = u({ costUsd: 0.71, provenance: 'cost-only', provenanceText: 'cost only (tokens unknown)' });
    expect(agentCost(crush)).toEqual({ text: '$0.71', title: '$0.7100 · cost only (tokens unknown)' });
    const partly = u({ costUsd: 1.5, provenanceText: 'priced + unknown price', unpricedModels: ['a', 'b'] });
    expect(agentCost(partly).title).toBe('$1.5000 · priced + unknown price · unpriced: a, b');
    // A priced cost below a cent is not shown as $0.
    expect(agentCost(u({ costUsd: 0.004 })).text).toBe('<$0.01');
  });
});
