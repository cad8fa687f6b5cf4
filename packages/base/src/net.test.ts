import { describe, expect, it } from 'vitest';
import { isLoopback } from './net.ts';

describe('isLoopback', () => {
  it('knows 127.0.0.0/8, ::1 and localhost, and nothing else', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '192.168.1.10', '::', '128.0.0.1', 'localhost.example', '127.0.0.1.evil'].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
