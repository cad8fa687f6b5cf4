/** Runs the TimeSeriesStore conformance suite on the in-memory store of the ingest core (the reference). */
import { MemoryTimeSeries } from '../ingest/memory-time-series.ts';
import { timeSeriesCases } from './time-series.case.ts';

timeSeriesCases('memory', () => new MemoryTimeSeries());
