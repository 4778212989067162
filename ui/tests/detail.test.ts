import { describe, expect, it } from 'vitest';
import { mergeToolCalls } from '../src/lib/detail';
import type { ToolCall } from '../src/lib/types';

const call = (at: string, tool: string): ToolCall => ({ at, tool, source: 'hook', isError: false });

describe('mergeToolCalls', () => {
  const fetched = [call('2026-10-01T10:00:00Z', 'Read'), call('2026-10-01T10:01:00Z', 'Edit')];

  it('keeps local calls newer than the fetched list', () => {
    const local = [...fetched, call('2026-10-01T10:02:00Z', 'Bash')];
    expect(mergeToolCalls(fetched, local, 10).map((c) => c.tool)).toEqual(['Read', 'Edit', 'Bash']);
  });
  it('drops local calls the fetch already has', () => {
    expect(mergeToolCalls(fetched, [...fetched], 10)).toHaveLength(2);
  });
  it('keeps everything local when nothing was fetched', () => {
    expect(mergeToolCalls([], [call('2026-10-01T10:02:00Z', 'Bash')], 10)).toHaveLength(1);
  });
  it('caps the length, keeping the newest', () => {
    const local = [call('2026-10-01T10:02:00Z', 'A'), call('2026-10-01T10:03:00Z', 'B')];
    expect(mergeToolCalls(fetched, local, 3).map((c) => c.tool)).toEqual(['Edit', 'A', 'B']);
  });
});
