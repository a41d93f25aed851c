import type { CheckReport, StepStatus } from './run-check.js';

const STATUS: Record<StepStatus, string> = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' };

/** The report as text: one line per step, its items indented below it. */
export function checkReportText(report: CheckReport): string {
  const lines = [`target-invoca check on ${report.engine} (scratch tables ${report.prefix}*)`];
  for (const step of report.steps) {
    lines.push(`${STATUS[step.status]}  ${step.name.padEnd(8)} ${String(step.ms).padStart(6)} ms  ${step.detail}`);
    for (const item of step.items ?? []) lines.push(`        ${item}`);
  }
  lines.push(report.passed ? 'check passed: every step passed' : 'check FAILED');
  return `${lines.join('\n')}\n`;
}

/** The first failed step as one line, for the error that ends the bin. */
export function firstFailure(report: CheckReport): string {
  const failed = report.steps.find((step) => step.status === 'failed') ?? report.steps.find((step) => step.status === 'skipped');
  return failed ? `check failed at '${failed.name}': ${failed.detail}` : 'check failed';
}
