import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, waitForPort } from './ports.ts';

describe('ports', () => {
  it('finds a free loopback port, and waits until something listens on it', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    await expect(waitForPort(port, 50)).rejects.toThrow(`nothing listens on 127.0.0.1:${port}`);
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    try {
      await waitForPort(port);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});
