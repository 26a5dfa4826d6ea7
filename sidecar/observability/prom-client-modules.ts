// prom-client's metric classes, imported from the modules they live in rather than from
// prom-client's index, which also loads its Pushgateway (node:https, so TLS and OpenSSL's
// tables), cluster aggregation (node:cluster) and Summary (tdigest): ~4.5 MB of RSS in
// every sidecar for code it never runs (docs/architecture.md "What the sidecar loads").

import type * as PromClient from "prom-client";
import RegistryModule from "prom-client/lib/registry.js";
import CounterModule from "prom-client/lib/counter.js";
import GaugeModule from "prom-client/lib/gauge.js";
import HistogramModule from "prom-client/lib/histogram.js";
import collectDefaultMetricsModule from "prom-client/lib/defaultMetrics.js";

export const Registry: typeof PromClient.Registry = RegistryModule;
export type Registry = PromClient.Registry;
export const Counter: typeof PromClient.Counter = CounterModule;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export const Gauge: typeof PromClient.Gauge = GaugeModule;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export const Histogram: typeof PromClient.Histogram = HistogramModule;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
export const collectDefaultMetrics: typeof PromClient.collectDefaultMetrics = collectDefaultMetricsModule;
