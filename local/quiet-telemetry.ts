/**
 * Imported first by bench/run.ts and scripts/fuzz.ts: the worker figures run the real handler code in this process, and its
 * Powertools logger and metrics read these at import time. Their output would bury the tables; the
 * webhook figure measures logging at the deployed level in its own process (webhook-cpu.ts).
 */
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
