// Keep-alive: Chromium stops a service worker idle for 30 s, which aborts its downloads. While a
// download runs, the page pings the worker every `intervalMs`; a message from a window is a new
// event and resets the idle timer. Stops when a ping reports no active job, or after
// `maxFailures` failed pings in a row (the next download, resume or progress event restarts it).

import { timerDelay } from './timeout.js';

export interface PingResult {
  /** Jobs running, plus entries waiting for the network to come back. */
  activeJobs: number;
  /** The worker's WebAssembly memory in bytes (diagnostics). */
  wasmMemoryBytes?: number | null;
}

export class KeepAlive {
  private timer: ReturnType<typeof setInterval> | undefined;
  private inFlight = false;
  private failures = 0;
  private epoch = 0;

  constructor(
    private readonly ping: () => Promise<PingResult>,
    private readonly intervalMs: number,
    private readonly maxFailures = 3,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts pinging (no-op when running; `intervalMs` <= 0 disables keep-alive). */
  start(): void {
    this.epoch++; // a ping in flight from before this call must not stop it
    this.failures = 0;
    const delay = timerDelay(this.intervalMs);
    if (this.timer !== undefined || delay === undefined) return;
    this.timer = setInterval(() => void this.tick(), delay);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One ping (skipped while another is in flight). */
  async tick(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    const epoch = this.epoch;
    try {
      const result = await this.ping();
      this.failures = 0;
      if (result && result.activeJobs === 0 && epoch === this.epoch) this.stop();
    } catch {
      if (++this.failures >= this.maxFailures && epoch === this.epoch) this.stop();
    } finally {
      this.inFlight = false;
    }
  }
}
