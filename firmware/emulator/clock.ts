/** @module The virtual clock: wall time and uptime advance only when the simulation says so. */
export class VirtualClock {
  private wallMs: number;
  private bootAtMs: number;
  constructor(startWallMs: number) {
    this.wallMs = startWallMs;
    this.bootAtMs = startWallMs;
  }
  nowMs(): number {
    return this.wallMs;
  }
  uptimeMs(): number {
    return this.wallMs - this.bootAtMs;
  }
  advance(ms: number): void {
    this.wallMs += ms;
  }
  /** A reboot restarts uptime; wall time goes on. */
  reboot(): void {
    this.bootAtMs = this.wallMs;
  }
}
