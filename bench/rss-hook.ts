/**
 * Loaded with `node --import` into a benchmarked process: on exit it writes the process's peak
 * resident set size (KiB, native memory such as DuckDB's included) to $BENCH_RSS_FILE.
 */
import { writeFileSync } from 'node:fs';

const file = process.env['BENCH_RSS_FILE'];
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
