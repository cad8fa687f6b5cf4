import { describe, expect, it } from 'vitest';
import { publicBaseUrl } from './options.ts';

describe('the public URL option', () => {
  it('keeps an http or https base URL, a path prefix too, without its trailing slashes', () => {
    expect(publicBaseUrl({})).toBeUndefined();
    expect(publicBaseUrl({ publicUrl: 'https://cloud.example.org:8443/' })).toBe('https://cloud.example.org:8443');
    expect(publicBaseUrl({ publicUrl: 'http://10.0.0.5/ferry//' })).toBe('http://10.0.0.5/ferry');
  });

  it('refuses what a gateway could not be sent to, naming the flag', () => {
    for (const bad of [
      'cloud.example.org',
      'ftp://cloud.example.org',
      'https://u:p@cloud.example.org',
      'https://c.example.org/?x=1',
      'https://c.example.org/#a',
      '',
    ])
      expect(() => publicBaseUrl({ publicUrl: bad })).toThrow(/--public-url/);
  });
});
