/* The download helpers' pure parts: a percentage only of a known total, and the lines of a
 * search export's answer cut wherever the network cut them. */
import { describe, expect, it } from 'vitest';
import { percentOf, takeLines } from './streams';

describe('download progress', () => {
  it('is a percentage of a known total, never above 100', () => {
    expect(percentOf(0, 200)).toBe(0);
    expect(percentOf(199, 200)).toBe(99);
    expect(percentOf(200, 200)).toBe(100);
    expect(percentOf(250, 200)).toBe(100);
  });
  it('has none without a total (a file made as it is sent)', () => {
    expect(percentOf(1234, null)).toBeNull();
    expect(percentOf(1234, 0)).toBeNull();
  });
});

describe('lines of a streamed answer', () => {
  it('keeps the unfinished line for the next piece', () => {
    const a = takeLines('{"progress":{"rowsDone":"1"}}\n{"file":{"chu');
    expect(a.lines).toEqual(['{"progress":{"rowsDone":"1"}}']);
    expect(a.rest).toBe('{"file":{"chu');
    const b = takeLines(a.rest + 'nk":"QQ=="}}\n');
    expect(b.lines).toEqual(['{"file":{"chunk":"QQ=="}}']);
    expect(b.rest).toBe('');
  });
  it('skips empty lines', () => {
    expect(takeLines('\n\n{}\n').lines).toEqual(['{}']);
  });
});
