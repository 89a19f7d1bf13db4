/**
 * Stacks the layers around a connector: capability -> counting -> signal -> retry -> timeout -> shape -> store.
 * @module
 */
import type { UnderStore } from '../store/under-store.js';
import { CapabilityLayer } from './capability-layer.js';
import { CountingLayer } from './counting-layer.js';
import { RetryLayer, type RetryPolicy } from './retry-layer.js';
import { ShapeLayer } from './shape-layer.js';
import { SignalLayer } from './signal-layer.js';
import { TimeoutLayer } from './timeout-layer.js';

/** Wraps `store` in the layers the options ask for. */
export function withLayers(store: UnderStore, settings: { retry: RetryPolicy; timeout: number | undefined; requests: Record<string, number> }): UnderStore {
  let layered: UnderStore = new ShapeLayer(store);
  if (settings.timeout !== undefined) layered = new TimeoutLayer(layered, settings.timeout);
  if (settings.retry.attempts > 1) layered = new RetryLayer(layered, settings.retry);
  return new CapabilityLayer(new CountingLayer(new SignalLayer(layered), settings.requests));
}

export { StoreLayer } from './store-layer.js';
export { RetryLayer, type RetryPolicy } from './retry-layer.js';
export { TimeoutLayer } from './timeout-layer.js';
export { SignalLayer } from './signal-layer.js';
export { CountingLayer } from './counting-layer.js';
export { CapabilityLayer } from './capability-layer.js';
export { ShapeLayer } from './shape-layer.js';
