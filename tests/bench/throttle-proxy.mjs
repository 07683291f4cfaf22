// A throttling loopback TCP proxy for the link benchmark (link-bench.mjs): it forwards every
// connection to an upstream server (the media server) through a simulated link with a bandwidth
// and a round-trip time. Node built-ins only.
//
//   import {startThrottleProxy} from './throttle-proxy.mjs';
//   const proxy = await startThrottleProxy({target: media.url, totalMbit: 20, perConnMbit: 20, rttMs: 80});
//   // ... the page fetches `${proxy.url}/content/...` ...
//   proxy.stats;   // {connections, upstreamConnections, bytesDown, bytesUp, busyMsDown, busyMsUp}
//                  // (busy: while bytes wait in that direction)
//   await proxy.stop();
//
// The link, per direction (server → client and client → server alike):
// - bandwidth: a token bucket per connection (`perConnMbit`) and one shared by every connection
//   (`totalMbit`); each tick (~1 ms) the shared tokens are dealt round-robin among the
//   connections with bytes waiting, each taking no more than its own bucket holds. Buckets hold
//   at most `burstMs` of their rate (so a stalled event loop cannot bank much), and start full.
// - latency: every byte, once the buckets let it through, is delivered rttMs / 2 later (a delay
//   line), so a request and its response cost one RTT on top of their transfer time; and a new
//   connection's first bytes wait one more RTT (the TCP handshake a real link would cost).
// - backpressure: a connection's sender is paused while more than 256 KiB wait in its queue.
// - upstream: the proxy works at the TCP level, so ranges and CORS pass through unchanged; a
//   client connection outlives the upstream's keep-alive timeout (see below).

import net from 'node:net';
import {performance} from 'node:perf_hooks';

const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;
const TICK_MS = 1;

/** Bytes per millisecond for a rate in Mbit/s (1 Mbit = 10^6 bits). */
const perMs = (mbit) => (mbit * 1e6) / 8 / 1000;

const target = (f) => (typeof f.to === 'function' ? f.to() : f.to);

/** One direction of the link: shapes the flows (one per connection) that send that way. */
class Shaper {
  constructor({totalMbit, perConnMbit, burstMs, delayMs, stats, counter, busyCounter}) {
    this.rate = perMs(totalMbit);
    this.connRate = perMs(perConnMbit ?? totalMbit);
    this.burst = Math.max(16 * 1024, this.rate * burstMs);
    this.connBurst = Math.max(16 * 1024, this.connRate * burstMs);
    this.delayMs = delayMs;
    this.stats = stats;
    this.counter = counter;
    this.busyCounter = busyCounter;
    this.tokens = this.burst;
    this.flows = new Set();
    this.timer = null;
    this.last = performance.now();
    this.busySince = null;
  }

  /**
   * A flow from socket `from` to `to` (a socket, or a function returning the socket to write to
   * now); its bytes may leave from `readyAt` on. With `onEnd`, the end of `from` calls it once
   * everything has been delivered, instead of ending `to`.
   */
  flow(from, to, readyAt, onEnd = null) {
    const f = {from, to, readyAt, onEnd, queue: [], queued: 0, tokens: this.connBurst, ended: false, paused: false, closed: false};
    this.flows.add(f);
    from.on('data', (buf) => {
      f.queue.push(buf);
      f.queued += buf.length;
      if (f.queued > HIGH_WATER && !f.paused) {
        f.paused = true;
        from.pause();
      }
      this.kick();
    });
    from.on('end', () => {
      f.ended = true;
      this.kick();
    });
    return f;
  }

  kick() {
    if (this.timer) return;
    const now = performance.now();
    this.refill(now);
    this.busySince = now;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  refill(now) {
    const dt = now - this.last;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + dt * this.rate);
    for (const f of this.flows) f.tokens = Math.min(this.connBurst, f.tokens + dt * this.connRate);
  }

  tick() {
    const now = performance.now();
    this.refill(now);
    let active = [...this.flows].filter((f) => f.queued > 0 && now >= f.readyAt);
    while (this.tokens >= 1 && active.length) {
      const share = Math.max(1, Math.floor(this.tokens / active.length));
      const next = [];
      for (const f of active) {
        const n = Math.min(f.queued, Math.floor(f.tokens), share, Math.floor(this.tokens));
        if (n > 0) {
          this.send(f, n);
          f.tokens -= n;
          this.tokens -= n;
        }
        if (f.queued > 0 && f.tokens >= 1) next.push(f);
      }
      active = next;
    }
    for (const f of this.flows) {
      if (f.paused && f.queued < LOW_WATER) {
        f.paused = false;
        f.from.resume();
      }
      if (f.ended && f.queued === 0 && !f.closed) {
        f.closed = true;
        this.later(() => (f.onEnd ? f.onEnd() : target(f).end()));
        this.flows.delete(f);
      }
    }
    if (![...this.flows].some((f) => f.queued > 0)) {
      clearInterval(this.timer);
      this.timer = null;
      this.stats[this.busyCounter] += now - this.busySince;
    }
  }

  /** Takes `n` bytes off the front of the flow's queue and delivers them after the delay. */
  send(f, n) {
    const parts = [];
    let left = n;
    while (left > 0) {
      const head = f.queue[0];
      if (head.length <= left) {
        parts.push(f.queue.shift());
        left -= head.length;
      } else {
        parts.push(head.subarray(0, left));
        f.queue[0] = head.subarray(left);
        left = 0;
      }
    }
    f.queued -= n;
    this.stats[this.counter] += n;
    const chunk = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.later(() => {
      const to = target(f);
      if (!to.destroyed) to.write(chunk);
    });
  }

  /** Runs `fn` after the one-way delay; timers of one duration fire in the order they were set. */
  later(fn) {
    if (this.delayMs > 0) setTimeout(fn, this.delayMs);
    else queueMicrotask(fn);
  }

  drop(f) {
    this.flows.delete(f);
  }
}

/**
 * Starts the proxy.
 * @param {object} options
 * @param {string} options.target          upstream origin, e.g. http://127.0.0.1:PORT
 * @param {number} options.totalMbit       bandwidth shared by every connection, each direction
 * @param {number} [options.perConnMbit]   bandwidth of one connection (default: totalMbit)
 * @param {number} [options.rttMs=0]       round-trip time added (half each way)
 * @param {number} [options.burstMs=25]    bucket depth, in milliseconds of its rate
 * @returns {Promise<{url: string, port: number, stats: object, stop: () => Promise<void>}>}
 */
export async function startThrottleProxy({target, totalMbit, perConnMbit = totalMbit, rttMs = 0, burstMs = 25, host = '127.0.0.1', port = 0}) {
  const upstream = new URL(target);
  const stats = {connections: 0, upstreamConnections: 0, bytesDown: 0, bytesUp: 0, busyMsDown: 0, busyMsUp: 0};
  const delayMs = rttMs / 2;
  const down = new Shaper({totalMbit, perConnMbit, burstMs, delayMs, stats, counter: 'bytesDown', busyCounter: 'busyMsDown'});
  const up = new Shaper({totalMbit, perConnMbit, burstMs, delayMs, stats, counter: 'bytesUp', busyCounter: 'busyMsUp'});
  const sockets = new Set();
  // One client connection is one simulated link connection. Its upstream connection may be
  // replaced: the media server closes a keep-alive connection 5 s after it last wrote, and with
  // the link holding back what it wrote, that can come before the client even has the response.
  // So the upstream's end is not passed on; the client's next bytes go to a new upstream
  // connection (loopback, no handshake to simulate), as if the server had kept it open.
  const server = net.createServer({allowHalfOpen: true}, (client) => {
    stats.connections++;
    sockets.add(client);
    client.setNoDelay(true);
    const downFlows = new Set();
    let upstreamSocket = null;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      up.drop(upFlow);
      for (const f of downFlows) down.drop(f);
      client.destroy();
      upstreamSocket?.destroy();
      sockets.delete(client);
    };
    const dial = () => {
      const s = net.connect({host: upstream.hostname, port: Number(upstream.port), allowHalfOpen: true});
      stats.upstreamConnections++;
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', close);
      s.on('close', () => sockets.delete(s));
      const f = down.flow(s, client, 0, () => {
        downFlows.delete(f);
        s.end();
      });
      downFlows.add(f);
      s.on('end', () => {
        if (upstreamSocket === s) upstreamSocket = null;
      });
      upstreamSocket = s;
      return s;
    };
    dial();
    const upFlow = up.flow(client, () => upstreamSocket ?? dial(), performance.now() + rttMs);
    client.on('error', close);
    client.on('close', close);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    stats,
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
